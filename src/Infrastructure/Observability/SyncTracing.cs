using System.Diagnostics;

namespace Aggregator.Infrastructure.Observability;

/// <summary>
/// Spans of a sync's own steps that no library traces: reading a provider's answer after its headers (HttpClient's span
/// ends at the headers) and storing a page (a COPY into staging, which Npgsql does not trace, and the upsert).
/// </summary>
public static class SyncTracing
{
    public const string SourceName = "Aggregator.Sync";

    /// <summary>The span that reads a provider's answer body.</summary>
    public const string ReadBody = "provider body";

    /// <summary>The span that stores one page of resources.</summary>
    public const string StorePage = "store page";

    internal static readonly ActivitySource Source = new(SourceName);
}
