using System.Collections.Concurrent;
using System.Threading.Channels;
using Aggregator.Infrastructure.Notifications;

namespace Aggregator.Infrastructure.Events;

/// <summary>
/// Wakes the event streams open on this replica when their patient has a new event (heard through
/// NOTIFY, so a write on any replica or Worker reaches every stream). A wake-up carries nothing: the
/// stream reads what is new from the database, so a missed or doubled signal loses or repeats nothing.
/// </summary>
public sealed class PatientEventSignals
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _subscribers = new();

    public PatientEventSignals(DatabaseNotifications notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        notifications.Subscribe(NotificationChannels.PatientEvent, OnNotified);
    }

    /// <summary>Listens for <paramref name="patientId"/>'s events until the subscription is disposed.</summary>
    public Subscription Subscribe(Guid patientId)
    {
        var subscription = new Subscription(this, patientId);
        _subscribers.GetOrAdd(patientId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    private void OnNotified(string payload)
    {
        if (payload == NotificationChannels.Everything)
        {
            foreach (var subscription in _subscribers.Values.SelectMany(s => s.Keys))
            {
                subscription.Wake();
            }

            return;
        }

        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        if (separator > 0 && Guid.TryParse(payload.AsSpan(0, separator), out var patientId) && _subscribers.TryGetValue(patientId, out var subscriptions))
        {
            foreach (var subscription in subscriptions.Keys)
            {
                subscription.Wake();
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        if (_subscribers.TryGetValue(subscription.PatientId, out var subscriptions))
        {
            subscriptions.TryRemove(subscription, out _);
            if (subscriptions.IsEmpty)
            {
                _subscribers.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Subscription, byte>>(subscription.PatientId, subscriptions));
            }
        }
    }

    /// <summary>One open stream's wake-ups: at most one pending, however many events arrived.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly PatientEventSignals _owner;
        private readonly Channel<bool> _wakeups = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        internal Subscription(PatientEventSignals owner, Guid patientId)
        {
            _owner = owner;
            PatientId = patientId;
        }

        public Guid PatientId { get; }

        /// <summary>Waits for a wake-up; false when <paramref name="timeout"/> passed first.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                await _wakeups.Reader.ReadAsync(timer.Token);
                return true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        public void Dispose() => _owner.Remove(this);

        internal void Wake() => _wakeups.Writer.TryWrite(true);
    }
}
