using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Providers;
using Aggregator.Infrastructure.Secrets;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Connections;

public sealed record ConnectStart(Guid ConnectionId, Uri AuthorizeUrl, DateTimeOffset ExpiresAt);

/// <summary>What the provider sent to our callback.</summary>
public sealed record CallbackParameters(string? Code, string? State, string? Error, string? Issuer);

/// <summary>Where the patient's browser goes next; no return url means the state was not ours at all.</summary>
public sealed record CallbackOutcome(Uri? RedirectTo, string Status, string? Reason, Guid? ConnectionId);

/// <summary>
/// The SMART standalone launch: <see cref="StartAsync"/> builds the authorize url (state, PKCE S256,
/// aud), <see cref="CompleteAsync"/> checks the state, exchanges the code and stores the tokens
/// encrypted. Every failure ends on the tenant's return url with a reason, and stores nothing half-done.
/// A first binding ends <c>pending_confirmation</c> with a single-use result code on the return url: only the
/// tenant's backend can redeem it (<see cref="ConnectionBinding"/>), so an authorize url completed by someone
/// else never attaches their record to the patient who started the flow.
/// </summary>
public sealed partial class ConnectFlow(
    AggregatorDbContext db,
    CurrentTenant tenant,
    ProviderDirectory directory,
    ClientRegistrations clients,
    SmartDiscovery discovery,
    ProviderTokenClient tokens,
    SecretProtector secrets,
    SyncScheduler sync,
    Events.PatientEventLog events,
    TimeProvider clock,
    IOptions<ConnectOptions> options,
    ILogger<ConnectFlow> logger)
{
    private const string BaseScopes = "launch/patient openid fhirUser offline_access";

    /// <summary>Starts a new connection, or re-authorises the existing one of this patient at this provider.</summary>
    /// <param name="linkSessionId">Set when the hosted Connect page starts it: <paramref name="returnUrl"/> is then that page's, not a tenant's.</param>
    public async Task<ConnectStart> StartAsync(Guid patientId, Guid providerId, string returnUrl, Uri redirectUri, CancellationToken cancellationToken, Guid? linkSessionId = null)
    {
        var tenantId = tenant.Required;
        var patient = await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == patientId, cancellationToken)
            ?? throw new ConnectRefusedException(ConnectRefusal.PatientNotFound, "No patient with this id exists for your tenant.");
        var provider = await directory.FindAsync(providerId, cancellationToken)
            ?? throw new ConnectRefusedException(ConnectRefusal.ProviderNotFound, "No provider with this id is in the directory.");
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.PatientId == patient.Id && c.ProviderId == provider.Id, cancellationToken);
        return await BeginAuthorizationAsync(provider, patient.Id, connection, returnUrl, redirectUri, linkSessionId, cancellationToken);
    }

    /// <summary>Re-authorises an existing connection (keeping its data); refused later if the provider names another patient.</summary>
    public async Task<ConnectStart> ReconnectAsync(Guid connectionId, string returnUrl, Uri redirectUri, CancellationToken cancellationToken, Guid? linkSessionId = null)
    {
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken)
            ?? throw new ConnectRefusedException(ConnectRefusal.ConnectionNotFound, "No connection with this id exists for your tenant.");
        var provider = await directory.FindAsync(connection.ProviderId, cancellationToken)
            ?? throw new ConnectRefusedException(ConnectRefusal.ProviderNotFound, "The connection's provider is no longer in the directory.");
        return await BeginAuthorizationAsync(provider, connection.PatientId, connection, returnUrl, redirectUri, linkSessionId, cancellationToken);
    }

    private async Task<ConnectStart> BeginAuthorizationAsync(
        Provider provider, Guid patientId, Connection? connection, string returnUrl, Uri redirectUri, Guid? linkSessionId, CancellationToken cancellationToken)
    {
        var tenantId = tenant.Required;
        var registered = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.ReturnUrls).SingleAsync(cancellationToken);
        // The hosted Connect page's own return is ours; a tenant's return url must be one it registered.
        if (linkSessionId is null && !registered.Contains(returnUrl, StringComparer.Ordinal))
        {
            throw new ConnectRefusedException(ConnectRefusal.ReturnUrlNotRegistered, "The return url is not one of your tenant's registered return urls (they are matched exactly).");
        }

        var client = await clients.ResolveAsync(provider.Id, tenantId, cancellationToken)
            ?? throw new ConnectRefusedException(ConnectRefusal.ProviderNotConfigured, "No OAuth client is registered for this provider yet.");
        SmartConfiguration server;
        try
        {
            server = await discovery.DiscoverAsync(provider, cancellationToken);
        }
        catch (ProviderEndpointRefusedException ex)
        {
            throw new ConnectRefusedException(ConnectRefusal.ProviderUnreachable, ex.Message);
        }
        catch (Exception ex) when (ex is ProviderUnreachableException or ProviderDiscoveryException)
        {
            throw new ConnectRefusedException(ConnectRefusal.ProviderUnreachable, "The provider's authorization server could not be discovered right now; try again later.");
        }

        var now = clock.GetUtcNow();
        if (connection is null)
        {
            connection = new Connection
            {
                Id = Guid.CreateVersion7(),
                TenantId = tenantId,
                PatientId = patientId,
                ProviderId = provider.Id,
                Status = ConnectionStatus.Pending,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Connections.Add(connection);
        }

        var state = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var expiresAt = now + options.Value.StateLifetime;
        db.AuthRequests.Add(new AuthRequest
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            ConnectionId = connection.Id,
            LinkSessionId = linkSessionId,
            StateHash = HashState(state),
            PkceVerifierProtected = secrets.Protect(SecretKind.PkceVerifier, verifier),
            ReturnUrl = returnUrl,
            RedirectUri = redirectUri.AbsoluteUri,
            Issuer = server.Issuer ?? server.TokenEndpoint.GetLeftPart(UriPartial.Authority),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        });
        await db.SaveChangesAsync(cancellationToken);

        var parameters = new Parameters
        {
            { "response_type", "code" },
            { "client_id", client.ClientId },
            { "redirect_uri", redirectUri.AbsoluteUri },
            { "scope", ScopesFor(provider, client, server) },
            { "state", state },
            { "aud", provider.FhirBaseUrl },
        };
        // PKCE S256 always, even where a server's discovery does not list it: it costs a server that ignores it nothing.
        parameters.Add("code_challenge", WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        parameters.Add("code_challenge_method", "S256");

        var authorizeUrl = QueryHelpers.AddQueryString(server.AuthorizationEndpoint.AbsoluteUri, parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        LogStarted(logger, connection.Id, provider.Slug);
        return new ConnectStart(connection.Id, new Uri(authorizeUrl), expiresAt);
    }

    /// <summary>Handles the provider's redirect back to us. Runs without a tenant: the state says whose it is.</summary>
    public async Task<CallbackOutcome> CompleteAsync(CallbackParameters callback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (string.IsNullOrEmpty(callback.State) || callback.State.Length > 200)
        {
            return new CallbackOutcome(null, CallbackStatuses.Error, CallbackReasons.InvalidState, null);
        }

        var stateHash = HashState(callback.State);
        AuthRequest? request;
        // The callback names a state, not a tenant: found as system work, then handled as its tenant's.
        using (tenant.ActAsSystem())
        {
            request = await db.AuthRequests.IgnoreQueryFilters().SingleOrDefaultAsync(a => a.StateHash == stateHash, cancellationToken);
        }

        if (request is null)
        {
            LogUnknownState(logger);
            return new CallbackOutcome(null, CallbackStatuses.Error, CallbackReasons.InvalidState, null);
        }

        tenant.Set(request.TenantId);
        var now = clock.GetUtcNow();
        // Single use, also under concurrent callbacks: only the request that flips used_at goes on.
        var claimed = await db.AuthRequests
            .Where(a => a.Id == request.Id && a.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(a => a.UsedAt, now), cancellationToken);
        if (claimed == 0)
        {
            return Fail(request, CallbackStatuses.Error, CallbackReasons.InvalidState);
        }

        if (request.ExpiresAt <= now)
        {
            return Fail(request, CallbackStatuses.Error, CallbackReasons.ExpiredState);
        }

        if (callback.Issuer is { Length: > 0 } issuer && !SameIssuer(issuer, request.Issuer))
        {
            return Fail(request, CallbackStatuses.Error, CallbackReasons.InvalidState);
        }

        if (request.LinkSessionId is { } sessionId && !await LinkSessions.IsOpenAsync(db, sessionId, now, cancellationToken))
        {
            // The Connect page was finished or timed out meanwhile: nothing more may join it.
            return Fail(request, CallbackStatuses.Error, CallbackReasons.ExpiredState);
        }

        var connection = await db.Connections.SingleAsync(c => c.Id == request.ConnectionId, cancellationToken);
        if (!string.IsNullOrEmpty(callback.Error) || string.IsNullOrEmpty(callback.Code))
        {
            var denied = callback.Error == "access_denied";
            await MarkFailedIfNewAsync(connection, denied ? "The patient did not authorise access." : "The provider returned an authorization error.", cancellationToken);
            return Fail(request, denied ? CallbackStatuses.Denied : CallbackStatuses.Error,
                denied ? CallbackReasons.AccessDenied : CallbackReasons.TokenExchangeFailed, connection.Id);
        }

        var provider = await db.Providers.AsNoTracking().SingleAsync(p => p.Id == connection.ProviderId, cancellationToken);
        var client = await clients.ResolveAsync(provider.Id, request.TenantId, cancellationToken);
        if (client is null)
        {
            return Fail(request, CallbackStatuses.Error, CallbackReasons.TokenExchangeFailed, connection.Id);
        }

        SmartConfiguration server;
        TokenResponse response;
        try
        {
            server = await discovery.DiscoverAsync(provider, cancellationToken);
            if (server.IssParameterSupported && string.IsNullOrEmpty(callback.Issuer))
            {
                // RFC 9207: a server that says it names itself in every authorization response did not name itself here
                // (a mix-up attack may hand us another server's code): the code is not exchanged.
                LogIssuerMissing(logger, connection.Id);
                await MarkFailedIfNewAsync(connection, "The provider's authorization response did not name its issuer.", cancellationToken);
                return Fail(request, CallbackStatuses.Error, CallbackReasons.InvalidState, connection.Id);
            }

            var verifier = secrets.Unprotect(SecretKind.PkceVerifier, request.PkceVerifierProtected);
            response = await tokens.ExchangeCodeAsync(server, client, callback.Code, request.RedirectUri, verifier.Length == 0 ? null : verifier, cancellationToken);
        }
        catch (Exception ex) when (ex is ProviderUnreachableException or ProviderDiscoveryException or HttpRequestException)
        {
            await MarkFailedIfNewAsync(connection, "The provider could not be reached.", cancellationToken);
            return Fail(request, CallbackStatuses.Error, CallbackReasons.ProviderUnreachable, connection.Id);
        }

        if (response.IsError)
        {
            var unreachable = response.ErrorType == ResponseErrorType.Exception || (int)response.HttpStatusCode >= 500;
            LogExchangeFailed(logger, connection.Id, response.Error ?? "unknown", (int)response.HttpStatusCode);
            await MarkFailedIfNewAsync(connection, unreachable ? "The provider could not be reached." : "The provider refused the authorization code.", cancellationToken);
            return Fail(request, CallbackStatuses.Error, unreachable ? CallbackReasons.ProviderUnreachable : CallbackReasons.TokenExchangeFailed, connection.Id);
        }

        var providerPatient = response.TryGet("patient");
        if (string.IsNullOrEmpty(providerPatient) || string.IsNullOrEmpty(response.AccessToken))
        {
            await MarkFailedIfNewAsync(connection, "The provider named no patient for this login.", cancellationToken);
            return Fail(request, CallbackStatuses.Error, CallbackReasons.TokenExchangeFailed, connection.Id);
        }

        if (connection.ProviderPatientId is { } known && known != providerPatient)
        {
            // The patient logged in with another portal account: keep the connection as it was.
            LogPatientMismatch(logger, connection.Id);
            await RevokeQuietlyAsync(server, client, response, cancellationToken);
            return Fail(request, CallbackStatuses.Error, CallbackReasons.PatientMismatch, connection.Id);
        }

        var set = new TokenSet(
            response.AccessToken,
            response.RefreshToken,
            response.TokenType ?? "Bearer",
            response.ExpiresIn > 0 ? now.AddSeconds(response.ExpiresIn) : null,
            response.IdentityToken,
            now);
        connection.TokenSetProtected = set.Protect(secrets);
        connection.AccessTokenExpiresAt = set.ExpiresAt;
        connection.RefreshTokenExpiresAt = await tokens.RefreshTokenExpiryAsync(server, client, response.RefreshToken, cancellationToken);
        connection.ProviderPatientId = providerPatient;
        connection.GrantedScopes = response.Scope ?? connection.GrantedScopes;
        // Only a binding the tenant has confirmed before may go straight to active (a re-authorisation of the
        // same provider patient); a first binding waits, quarantined, for the tenant's backend to redeem the code.
        var needsConfirmation = connection.ConfirmedAt is null;
        connection.Status = needsConfirmation ? ConnectionStatus.PendingConfirmation : ConnectionStatus.Active;
        // From the hosted Connect page the session's own result code (handed out at Done) confirms it, and the window starts then.
        var resultCode = request.LinkSessionId is null ? ConnectionBinding.NewResultCode() : null;
        connection.ResultCodeHash = resultCode is null ? null : ConnectionBinding.Hash(resultCode);
        connection.ResultCodeIssuedAt = resultCode is null ? null : now;
        if (request.LinkSessionId is { } linkSessionId)
        {
            await LinkSessions.AddConnectionAsync(db, linkSessionId, connection.Id, cancellationToken);
        }

        connection.LastError = null;
        // The first sync is queued below; the dispatcher takes over after one interval.
        connection.NextSyncAt = now + await db.Tenants.Where(t => t.Id == request.TenantId).Select(t => t.SyncInterval).SingleAsync(cancellationToken);
        connection.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await events.ConnectionUpdatedAsync(connection, cancellationToken);
        await sync.EnqueueAsync(connection.Id, Domain.Sync.SyncTrigger.Initial, cancellationToken);
        LogConnected(logger, connection.Id, provider.Slug, needsConfirmation);
        return new CallbackOutcome(
            WithOutcome(request.ReturnUrl, CallbackStatuses.Connected, null, connection.Id, resultCode),
            CallbackStatuses.Connected, null, connection.Id);
    }

    /// <summary>The scopes asked for: the directory's or registration's override, else read-all in the server's SMART version.</summary>
    public static string ScopesFor(Provider provider, ProviderClient client, SmartConfiguration server)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(server);
        var read = client.Scopes ?? provider.Scopes ?? (server.UseV2Scopes ? "patient/*.rs" : "patient/*.read");
        return $"{BaseScopes} {read}";
    }

    private async Task RevokeQuietlyAsync(SmartConfiguration server, ProviderClient client, TokenResponse response, CancellationToken cancellationToken)
    {
        if (server.RevocationEndpoint is null)
        {
            return;
        }

        try
        {
            if (response.RefreshToken is { } refresh)
            {
                await tokens.RevokeAsync(server, client, refresh, "refresh_token", cancellationToken);
            }

            await tokens.RevokeAsync(server, client, response.AccessToken!, "access_token", cancellationToken);
        }
        catch (HttpRequestException)
        {
            // The unwanted grant expires by itself; nothing of it was stored.
        }
    }

    private async Task MarkFailedIfNewAsync(Connection connection, string reason, CancellationToken cancellationToken)
    {
        // A connection that already works keeps working: a failed re-authorisation changes nothing.
        if (connection.Status == ConnectionStatus.Pending)
        {
            connection.Status = ConnectionStatus.Failed;
            connection.LastError = reason;
            connection.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static CallbackOutcome Fail(AuthRequest request, string status, string reason, Guid? connectionId = null) =>
        new(WithOutcome(request.ReturnUrl, status, reason, connectionId ?? request.ConnectionId), status, reason, connectionId ?? request.ConnectionId);

    private static Uri WithOutcome(string returnUrl, string status, string? reason, Guid? connectionId, string? resultCode = null)
    {
        var query = new List<KeyValuePair<string, string?>> { new("status", status) };
        if (connectionId is { } id)
        {
            query.Add(new("connection_id", id.ToString()));
        }

        if (reason is not null)
        {
            query.Add(new("reason", reason));
        }

        if (resultCode is not null)
        {
            query.Add(new("result_code", resultCode));
        }

        return new Uri(QueryHelpers.AddQueryString(returnUrl, query));
    }

    private static bool SameIssuer(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private static byte[] HashState(string state) => SHA256.HashData(Encoding.UTF8.GetBytes(state));

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} sent to authorize at {Provider}")]
    private static partial void LogStarted(ILogger logger, Guid connectionId, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} connected to {Provider} (awaiting the tenant's confirmation: {AwaitingConfirmation})")]
    private static partial void LogConnected(ILogger logger, Guid connectionId, string provider, bool awaitingConfirmation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId}: the authorization response named no issuer though the provider advertises it; the code was not exchanged")]
    private static partial void LogIssuerMissing(ILogger logger, Guid connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OAuth callback with an unknown state")]
    private static partial void LogUnknownState(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Code exchange for connection {ConnectionId} failed: {Error} (HTTP {Status})")]
    private static partial void LogExchangeFailed(ILogger logger, Guid connectionId, string error, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconnect of {ConnectionId} refused: the provider named a different patient")]
    private static partial void LogPatientMismatch(ILogger logger, Guid connectionId);
}
