using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>
/// A log sink a test registers as a service in a host (the hosts read sinks from their services): keeps every event's
/// message, properties and exception as text, so that a test can look for what must never be logged.
/// </summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<string> _texts = new();

    public void Emit(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        var properties = string.Join(" ", logEvent.Properties.Select(p => $"{p.Key}={p.Value}"));
        _texts.Enqueue($"{logEvent.Level} {logEvent.RenderMessage()} {properties} {logEvent.Exception}");
    }

    public List<string> Texts() => [.. _texts];

    /// <summary>Fails naming the first event that holds any of <paramref name="secrets"/> (each long enough to search for).</summary>
    public void AssertHoldsNone(IReadOnlyDictionary<string, string?> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var logged = Texts();
        foreach (var (what, secret) in secrets)
        {
            Assert.False(string.IsNullOrEmpty(secret), $"{what} was not found");
            Assert.True(secret.Length >= 4, $"{what} is too short to search for");
            var leak = logged.FirstOrDefault(text => text.Contains(secret, StringComparison.OrdinalIgnoreCase));
            Assert.True(leak is null, $"A log event holds {what}: {leak}");
        }
    }
}
