// Live state on the companion app's home: the patient's events (passed through by /app/events) update each
// connection's line as a sync runs, and say when the record has new information. Without JavaScript the page shows
// the state as of its last load.
(() => {
    let source = null;

    function start() {
        if (source) {
            source.close();
            source = null;
        }

        const list = document.querySelector('[data-events-url]');
        if (!list || !window.EventSource) {
            return;
        }

        const announce = document.querySelector('[data-field="announce"]');
        const updated = document.querySelector('[data-field="record-updated"]');
        const field = (connectionId, name) => list.querySelector(`[data-connection="${connectionId}"] [data-field="${name}"]`);
        source = new EventSource(list.getAttribute('data-events-url'));
        // Whether the page is live (tests and styles can tell): open, or reconnecting after a dropped stream.
        source.addEventListener('open', () => list.setAttribute('data-live', 'open'));
        source.addEventListener('error', () => list.setAttribute('data-live', 'reconnecting'));

        source.addEventListener('sync.progress', e => {
            const data = JSON.parse(e.data);
            const progress = field(data.connectionId, 'progress');
            if (progress) {
                progress.textContent = `Copying your records: ${data.resourcesSoFar} so far…`;
            }
        });
        source.addEventListener('sync.finished', e => {
            const data = JSON.parse(e.data);
            const progress = field(data.connectionId, 'progress');
            if (progress) {
                progress.textContent = data.status === 'failed' ? 'The last update failed; it will be tried again.' : `Up to date: ${data.resourcesSoFar} records read just now.`;
                if (announce) {
                    announce.textContent = progress.textContent;
                }
            }
        });
        source.addEventListener('connection.updated', e => {
            const data = JSON.parse(e.data);
            const status = field(data.connectionId, 'status');
            if (status) {
                status.textContent = { active: 'Connected', reauth_required: 'Needs you to sign in again', revoked: 'Disconnected' }[data.status] || data.status;
            }
        });
        source.addEventListener('record.updated', () => {
            if (updated) {
                updated.hidden = false;
            }
        });
    }

    document.addEventListener('DOMContentLoaded', start);
    if (window.Blazor && typeof window.Blazor.addEventListener === 'function') {
        window.Blazor.addEventListener('enhancedload', start);
    }
})();
