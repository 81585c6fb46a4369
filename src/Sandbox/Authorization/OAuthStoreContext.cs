using Microsoft.EntityFrameworkCore;

namespace Aggregator.Sandbox.Authorization;

/// <summary>The authorization server's own small store: OpenIddict's clients, grants and tokens in SQLite.</summary>
public sealed class OAuthStoreContext(DbContextOptions<OAuthStoreContext> options) : DbContext(options);
