// Live progress on the Connect page: while a connection's first copy runs, ask the page's own progress
// endpoint every 1.5 s and update the words in place (announced politely to screen readers). Without
// JavaScript the page still works: it shows the progress as of its last load.
(() => {
    let timer = null;

    function start() {
        if (timer) {
            clearTimeout(timer);
            timer = null;
        }

        const region = document.querySelector('[data-progress-url]');
        if (!region) {
            return;
        }

        const url = region.getAttribute('data-progress-url');
        const announce = region.querySelector('[data-field="announce"]');

        async function poll() {
            let answer;
            try {
                const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
                if (!response.ok) {
                    return;
                }
                answer = await response.json();
            } catch {
                timer = setTimeout(poll, 3000);
                return;
            }

            let syncing = false;
            for (const connection of answer.connections) {
                const row = region.querySelector(`[data-connection="${connection.connectionId}"] [data-field="status"]`);
                if (row && row.textContent !== connection.status) {
                    row.textContent = connection.status;
                    if (!connection.syncing && announce) {
                        announce.textContent = `${connection.providerName}: ${connection.status}`;
                    }
                }
                syncing = syncing || connection.syncing;
            }

            if (syncing) {
                timer = setTimeout(poll, 1500);
            }
        }

        poll();
    }

    document.addEventListener('DOMContentLoaded', start);
    // Blazor's enhanced navigation swaps the page without a load event.
    if (window.Blazor && typeof window.Blazor.addEventListener === 'function') {
        window.Blazor.addEventListener('enhancedload', start);
    } else {
        document.addEventListener('DOMContentLoaded', () => window.Blazor?.addEventListener?.('enhancedload', start));
    }
})();
