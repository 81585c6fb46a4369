using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Connections;

public enum LinkSessionRefusal
{
    PatientNotFound,
    ConnectionNotFound,
    ReturnUrlNotRegistered,
    NotConfigured,
    SessionNotFound,

    /// <summary>Finished (Done, Cancel, error) or past its lifetime.</summary>
    SessionClosed,
    ConsentRequired,
    InvalidReason,
    InvalidResultCode,

    /// <summary>The url's link token is unknown, already spent, or its session ended.</summary>
    InvalidLinkToken,
}

public sealed class LinkSessionRefusedException(LinkSessionRefusal refusal, string message) : Exception(message)
{
    public LinkSessionRefusal Refusal { get; } = refusal;
}

public sealed record LinkSessionCreated(Guid Id, Uri Url, DateTimeOffset ExpiresAt);

public sealed record LinkSessionOpened(Guid LinkSessionId, string Credential, DateTimeOffset ExpiresAt);

/// <summary>What the hosted Connect page shows: who asks, the mode, and each connection's state and first-sync progress.</summary>
public sealed record LinkSessionView(
    Guid Id,
    LinkSessionStatus Status,
    string Mode,
    DateTimeOffset ExpiresAt,
    string TenantName,
    string? TenantLogoUrl,
    bool Consented,
    LinkSessionUpdateTarget? Update,
    IReadOnlyList<LinkSessionConnection> Connections);

public sealed record LinkSessionUpdateTarget(Guid ConnectionId, Guid ProviderId, string ProviderName, ConnectionStatus Status);

public sealed record LinkSessionConnection(Guid ConnectionId, Guid ProviderId, string ProviderName, ConnectionStatus Status, LinkSessionSync? Sync);

public sealed record LinkSessionSync(Guid SyncRunId, SyncRunStatus Status, int ResourcesSoFar);

public sealed record ExchangedConnection(Guid ConnectionId, Guid ProviderId, ConnectionStatus Status);

/// <summary>
/// Hosted Connect sessions (Plaid Link's shape): a partner creates one for a patient and sends the patient
/// to its url; the page spends the url's single-use link token for a credential, links providers through
/// the usual SMART launch (ending back on the page), and finishes with Done (the partner's return url gets
/// a single-use result code its backend exchanges to confirm everything the session connected), Cancel (all
/// it connected is revoked) or an error. Sessions that time out unused are announced by webhook.
/// </summary>
public sealed partial class LinkSessions(
    AggregatorDbContext db,
    CurrentTenant tenant,
    ConnectFlow flow,
    ConnectionBinding binding,
    ConnectionRevocation revocation,
    LinkSessionCredentials credentials,
    IOptions<ConnectOptions> connectOptions,
    IOptions<ApiPublicOptions> publicOptions,
    TimeProvider clock,
    ILogger<LinkSessions> logger)
{
    public const string LinkTokenPrefix = "aggl_";
    public const string ModeConnect = "connect";
    public const string ModeUpdate = "update";

    public async Task<LinkSessionCreated> CreateAsync(Guid patientId, string returnUrl, Guid? connectionId, CancellationToken cancellationToken)
    {
        var tenantId = tenant.Required;
        var web = publicOptions.Value.WebBaseUrl
            ?? throw new LinkSessionRefusedException(LinkSessionRefusal.NotConfigured, "The hosted Connect page is not configured on this server (Api:WebBaseUrl).");
        if (!await db.Patients.AnyAsync(p => p.Id == patientId, cancellationToken))
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.PatientNotFound, "No patient with this id exists for your tenant.");
        }

        var registered = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.ReturnUrls).SingleAsync(cancellationToken);
        if (!registered.Contains(returnUrl, StringComparer.Ordinal))
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.ReturnUrlNotRegistered, "The return url is not one of your tenant's registered return urls (they are matched exactly).");
        }

        if (connectionId is { } id && !await db.Connections.AnyAsync(c => c.Id == id && c.PatientId == patientId && c.ConfirmedAt != null, cancellationToken))
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.ConnectionNotFound, "No confirmed connection with this id exists for this patient.");
        }

        var token = LinkTokenPrefix + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var session = new LinkSession
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            PatientId = patientId,
            ReturnUrl = returnUrl,
            UpdateConnectionId = connectionId,
            LinkTokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = now + connectOptions.Value.LinkSessionLifetime,
        };
        db.LinkSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        var url = new Uri(QueryHelpers.AddQueryString(web.AbsoluteUri.TrimEnd('/') + "/connect/start", "token", token));
        LogCreated(logger, session.Id, connectionId is not null);
        return new LinkSessionCreated(session.Id, url, session.ExpiresAt);
    }

    /// <summary>Spends the url's link token (once) for the credential the page works with. Runs before any tenant is known.</summary>
    public async Task<LinkSessionOpened> OpenAsync(string token, CancellationToken cancellationToken)
    {
        var refused = new LinkSessionRefusedException(LinkSessionRefusal.InvalidLinkToken, "This Connect link is not valid any more: it was already opened, has expired, or was finished. Ask the app for a new one.");
        if (!token.StartsWith(LinkTokenPrefix, StringComparison.Ordinal) || token.Length > 100)
        {
            throw refused;
        }

        var hash = Hash(token);
        var now = clock.GetUtcNow();
        LinkSession session;
        // System work: the token says whose session it is.
        using (tenant.ActAsSystem())
        {
            var opened = await db.LinkSessions.IgnoreQueryFilters()
                .Where(s => s.LinkTokenHash == hash && s.OpenedAt == null && s.Status == LinkSessionStatus.Active && s.ExpiresAt > now)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.OpenedAt, now), cancellationToken);
            if (opened == 0)
            {
                throw refused;
            }

            session = await db.LinkSessions.IgnoreQueryFilters().AsNoTracking().SingleAsync(s => s.LinkTokenHash == hash, cancellationToken);
        }

        tenant.Set(session.TenantId);
        var credential = credentials.Issue(new LinkSessionCredential(session.TenantId, session.PatientId, session.Id, session.ExpiresAt));
        return new LinkSessionOpened(session.Id, credential, session.ExpiresAt);
    }

    public async Task<LinkSessionView> GetAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await FindAsync(sessionId, cancellationToken);
        var tenantRow = await db.Tenants.AsNoTracking().Where(t => t.Id == session.TenantId).Select(t => new { t.Name, t.DisplayName, t.LogoUrl }).SingleAsync(cancellationToken);
        var ids = session.ConnectionIds.Concat(session.UpdateConnectionId is { } u ? [u] : []).Distinct().ToList();
        var connections = await db.Connections.AsNoTracking().Where(c => ids.Contains(c.Id))
            .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new { c.Id, c.ProviderId, p.Name, c.Status })
            .ToListAsync(cancellationToken);
        var runs = await db.SyncRuns.AsNoTracking().Where(r => ids.Contains(r.ConnectionId))
            .GroupBy(r => r.ConnectionId)
            .Select(g => g.OrderByDescending(r => r.QueuedAt).Select(r => new { r.ConnectionId, r.Id, r.Status, r.TypeCounts }).First())
            .ToListAsync(cancellationToken);
        LinkSessionConnection Describe(Guid id)
        {
            var c = connections.Single(x => x.Id == id);
            var run = runs.FirstOrDefault(r => r.ConnectionId == id);
            return new LinkSessionConnection(c.Id, c.ProviderId, c.Name, c.Status,
                run is null ? null : new LinkSessionSync(run.Id, run.Status, StoredSyncCounts.ResourcesSoFar(StoredSyncCounts.Parse(run.TypeCounts))));
        }

        var update = session.UpdateConnectionId is { } target && connections.FirstOrDefault(c => c.Id == target) is { } found
            ? new LinkSessionUpdateTarget(found.Id, found.ProviderId, found.Name, found.Status)
            : null;
        return new LinkSessionView(
            session.Id, EffectiveStatus(session), session.UpdateConnectionId is null ? ModeConnect : ModeUpdate, session.ExpiresAt,
            tenantRow.DisplayName ?? tenantRow.Name, tenantRow.LogoUrl, session.ConsentedAt is not null, update,
            [.. session.ConnectionIds.Where(id => connections.Any(c => c.Id == id)).Select(Describe)]);
    }

    /// <summary>The patient accepted the data-use statement; nothing can be connected before.</summary>
    public async Task ConsentAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await FindOpenAsync(sessionId, cancellationToken);
        session.ConsentedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Starts the provider's login for a provider (or, in update mode, re-authorises the session's connection); the callback ends on the page.</summary>
    public async Task<ConnectStart> StartConnectionAsync(Guid sessionId, Guid providerId, Uri redirectUri, CancellationToken cancellationToken)
    {
        var session = await FindOpenAsync(sessionId, cancellationToken);
        if (session.ConsentedAt is null)
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.ConsentRequired, "The patient has not accepted the data-use statement yet.");
        }

        var pageReturn = publicOptions.Value.WebBaseUrl!.AbsoluteUri.TrimEnd('/') + $"/connect/{session.Id}";
        try
        {
            return session.UpdateConnectionId is { } connectionId
                ? await flow.ReconnectAsync(connectionId, pageReturn, redirectUri, cancellationToken, session.Id)
                : await flow.StartAsync(session.PatientId, providerId, pageReturn, redirectUri, cancellationToken, session.Id);
        }
        catch (ConnectRefusedException refused) when (refused.Refusal == ConnectRefusal.ConnectionNotFound)
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.ConnectionNotFound, refused.Message);
        }
    }

    /// <summary>Done: the session ends and the partner's return url gets a result code for everything it connected.</summary>
    public async Task<Uri> CompleteAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await FindOpenAsync(sessionId, cancellationToken);
        var now = clock.GetUtcNow();
        var code = ConnectionBinding.NewResultCode();
        session.Status = LinkSessionStatus.Completed;
        session.FinishedAt = now;
        session.ResultCodeHash = ConnectionBinding.Hash(code);
        session.ResultCodeIssuedAt = now;
        // The confirmation window of what the session connected starts now, as the code's does.
        await db.Connections.Where(c => session.ConnectionIds.Contains(c.Id) && c.ConfirmedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.ResultCodeIssuedAt, now), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        LogFinished(logger, session.Id, session.Status);
        return Outcome(session, ("status", "completed"), ("result_code", code));
    }

    /// <summary>Cancel, or an error the patient could not get past: everything the session newly connected is revoked and removed.</summary>
    public async Task<Uri> CancelAsync(Guid sessionId, string? reason, CancellationToken cancellationToken)
    {
        if (reason is not null && !CallbackReasons.All.Contains(reason))
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.InvalidReason, $"reason must be one of: {string.Join(", ", CallbackReasons.All)}.");
        }

        var session = await FindOpenAsync(sessionId, cancellationToken);
        session.Status = reason is null ? LinkSessionStatus.Cancelled : LinkSessionStatus.Failed;
        session.Reason = reason;
        session.FinishedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await RemoveUnconfirmedAsync(revocation, session.ConnectionIds, cancellationToken);
        LogFinished(logger, session.Id, session.Status);
        return reason is null
            ? Outcome(session, ("status", "cancelled"))
            : Outcome(session, ("status", "error"), ("reason", reason));
    }

    /// <summary>The partner's backend redeems Done's result code: every connection of the session is confirmed.</summary>
    public async Task<IReadOnlyList<ExchangedConnection>> ExchangeAsync(Guid sessionId, string resultCode, CancellationToken cancellationToken)
    {
        var session = await FindAsync(sessionId, cancellationToken);
        var now = clock.GetUtcNow();
        var valid = resultCode.Length is > 0 and <= 200
            && session.Status == LinkSessionStatus.Completed
            && session.ResultCodeHash is { } stored
            && session.ResultCodeIssuedAt is { } issued
            && now - issued <= connectOptions.Value.ConfirmationWindow
            && CryptographicOperations.FixedTimeEquals(stored, ConnectionBinding.Hash(resultCode));
        // Single use, also under concurrent exchanges: only the request that spends the code goes on.
        var spent = valid && await db.LinkSessions.Where(s => s.Id == sessionId && s.ExchangedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.ExchangedAt, now).SetProperty(s => s.ResultCodeHash, (byte[]?)null), cancellationToken) == 1;
        if (!spent)
        {
            throw new LinkSessionRefusedException(LinkSessionRefusal.InvalidResultCode, "This result code is not this session's, was already used, or is past the confirmation window.");
        }

        var exchanged = new List<ExchangedConnection>();
        foreach (var connectionId in session.ConnectionIds)
        {
            var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
            if (connection is null)
            {
                continue;
            }

            if (connection.ConfirmedAt is null && connection.Status == ConnectionStatus.PendingConfirmation)
            {
                await binding.ConfirmBindingAsync(connection, cancellationToken);
            }

            exchanged.Add(new ExchangedConnection(connection.Id, connection.ProviderId, connection.Status));
        }

        return exchanged;
    }

    /// <summary>Removes (revoking at the provider) the connections of <paramref name="connectionIds"/> that nobody confirmed.</summary>
    internal static async Task RemoveUnconfirmedAsync(ConnectionRevocation revocation, IEnumerable<Guid> connectionIds, CancellationToken cancellationToken)
    {
        foreach (var connectionId in connectionIds)
        {
            await revocation.RemoveAsync(connectionId, c => c.ConfirmedAt is null, cancellationToken);
        }
    }

    /// <summary>Records that the callback of one of the session's attempts connected <paramref name="connectionId"/>.</summary>
    internal static async Task AddConnectionAsync(AggregatorDbContext db, Guid sessionId, Guid connectionId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync(
            $"UPDATE link_sessions SET connection_ids = array_append(connection_ids, {connectionId}) WHERE id = {sessionId} AND NOT ({connectionId} = ANY(connection_ids))",
            cancellationToken);
    }

    /// <summary>Whether the session still takes connections.</summary>
    internal static Task<bool> IsOpenAsync(AggregatorDbContext db, Guid sessionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.LinkSessions.AnyAsync(s => s.Id == sessionId && s.Status == LinkSessionStatus.Active && s.ExpiresAt > now, cancellationToken);

    private LinkSessionStatus EffectiveStatus(LinkSession session) =>
        session.Status == LinkSessionStatus.Active && session.ExpiresAt <= clock.GetUtcNow() ? LinkSessionStatus.Expired : session.Status;

    private async Task<LinkSession> FindAsync(Guid sessionId, CancellationToken cancellationToken) =>
        await db.LinkSessions.SingleOrDefaultAsync(s => s.Id == sessionId, cancellationToken)
            ?? throw new LinkSessionRefusedException(LinkSessionRefusal.SessionNotFound, "No link session with this id exists for your tenant.");

    private async Task<LinkSession> FindOpenAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await FindAsync(sessionId, cancellationToken);
        return EffectiveStatus(session) == LinkSessionStatus.Active
            ? session
            : throw new LinkSessionRefusedException(LinkSessionRefusal.SessionClosed, "This Connect session has ended.");
    }

    private static Uri Outcome(LinkSession session, params (string Name, string Value)[] parameters) =>
        new(QueryHelpers.AddQueryString(session.ReturnUrl,
            new[] { new KeyValuePair<string, string?>("link_session_id", session.Id.ToString()) }
                .Concat(parameters.Select(p => new KeyValuePair<string, string?>(p.Name, p.Value)))));

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    [LoggerMessage(Level = LogLevel.Information, Message = "Link session {LinkSessionId} created (update mode: {UpdateMode})")]
    private static partial void LogCreated(ILogger logger, Guid linkSessionId, bool updateMode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Link session {LinkSessionId} finished {Status}")]
    private static partial void LogFinished(ILogger logger, Guid linkSessionId, LinkSessionStatus status);
}
