namespace Aggregator.Web;

/// <summary>A type in this assembly, for tests that host the web app (WebApplicationFactory).</summary>
public sealed class WebEntryPoint;
