using System.Collections.Concurrent;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// Whether a tenant is suspended and before when a patient's session tokens were revoked, answered from memory after
/// the first sight (so that a request pays no database round trip), kept true on every replica by NOTIFY
/// (<see cref="NotificationChannels.CredentialsChanged"/>) and by entries that expire in case a notification was missed.
/// </summary>
public sealed class CredentialRevocations
{
    private static readonly TimeSpan EntryLifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Guid, (bool Active, DateTimeOffset ExpiresAt)> _tenants = new();
    private readonly ConcurrentDictionary<Guid, (bool Exists, DateTimeOffset? RevokedBefore, DateTimeOffset ExpiresAt)> _patients = new();
    // Bumped by every eviction: a load that began before an eviction does not store what it read (it may predate the change).
    private readonly ConcurrentDictionary<Guid, long> _generations = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly DatabaseNotifications _notifications;
    private readonly TimeProvider _clock;

    public CredentialRevocations(IServiceScopeFactory scopes, DatabaseNotifications notifications, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        _scopes = scopes;
        _notifications = notifications;
        _clock = clock;
        notifications.Subscribe(NotificationChannels.CredentialsChanged, Evict);
    }

    /// <summary>Whether the tenant may act (not suspended, not gone).</summary>
    public async ValueTask<bool> TenantActiveAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        if (!_tenants.TryGetValue(tenantId, out var entry) || entry.ExpiresAt <= now)
        {
            var generation = Generation(tenantId);
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            var active = await db.Tenants.AsNoTracking().AnyAsync(t => t.Id == tenantId && t.Status == TenantStatus.Active, cancellationToken);
            entry = (active, now + EntryLifetime);
            if (Generation(tenantId) == generation)
            {
                _tenants[tenantId] = entry;
            }
        }

        return entry.Active;
    }

    /// <summary>Whether a session token still works: its tenant is active, its patient exists and did not revoke it.</summary>
    public async ValueTask<bool> SessionAllowedAsync(PatientSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!await TenantActiveAsync(session.TenantId, cancellationToken))
        {
            return false;
        }

        var now = _clock.GetUtcNow();
        if (!_patients.TryGetValue(session.PatientId, out var entry) || entry.ExpiresAt <= now)
        {
            var generation = Generation(session.PatientId);
            await using var scope = _scopes.CreateAsyncScope();
            // Asked while authenticating: the token's own tenant, before the request's scope is set to it.
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(session.TenantId);
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            var row = await db.Patients.IgnoreQueryFilters().AsNoTracking()
                .Where(p => p.Id == session.PatientId && p.TenantId == session.TenantId)
                .Select(p => new { p.SessionsRevokedBefore })
                .SingleOrDefaultAsync(cancellationToken);
            entry = (row is not null, row?.SessionsRevokedBefore, now + EntryLifetime);
            if (Generation(session.PatientId) == generation)
            {
                _patients[session.PatientId] = entry;
            }
        }

        return entry.Exists && (entry.RevokedBefore is not { } before || session.IssuedAt >= before);
    }

    /// <summary>Tells every replica (this one included) that a tenant's status changed.</summary>
    public async Task TenantChangedAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        Forget(tenantId);
        await _notifications.PublishAsync(NotificationChannels.CredentialsChanged, "tenant:" + tenantId, cancellationToken);
        // API keys are cached by their own authenticator: every replica forgets them all, and reloads them with the tenant's status.
        await _notifications.PublishAsync(NotificationChannels.ApiKeyRevoked, NotificationChannels.Everything, cancellationToken);
    }

    /// <summary>Tells every replica (this one included) that a patient's sessions were revoked or the patient deleted.</summary>
    public async Task PatientChangedAsync(Guid patientId, CancellationToken cancellationToken)
    {
        // At once here, whatever the notification's round trip.
        Forget(patientId);
        await _notifications.PublishAsync(NotificationChannels.CredentialsChanged, "patient:" + patientId, cancellationToken);
    }

    private void Evict(string payload)
    {
        if (payload == NotificationChannels.Everything)
        {
            foreach (var id in _tenants.Keys.Concat(_patients.Keys).Concat(_generations.Keys).ToList())
            {
                Forget(id);
            }
        }
        else if (payload.StartsWith("tenant:", StringComparison.Ordinal) && Guid.TryParse(payload["tenant:".Length..], out var tenantId))
        {
            Forget(tenantId);
        }
        else if (payload.StartsWith("patient:", StringComparison.Ordinal) && Guid.TryParse(payload["patient:".Length..], out var patientId))
        {
            Forget(patientId);
        }
    }

    private long Generation(Guid id) => _generations.GetValueOrDefault(id);

    private void Forget(Guid id)
    {
        _generations.AddOrUpdate(id, 1, (_, generation) => generation + 1);
        _tenants.TryRemove(id, out _);
        _patients.TryRemove(id, out _);
    }
}
