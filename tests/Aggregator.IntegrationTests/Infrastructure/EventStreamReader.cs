using System.Text;
using System.Text.Json;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>One Server-Sent Event as a client sees it (a comment line has <see cref="Comment"/> set and nothing else).</summary>
public sealed record ServerSentEvent(string? Id, string Event, string Data, string? Comment)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>Reads a <c>text/event-stream</c> response the way <c>EventSource</c> does: fields until a blank line, then one event.</summary>
public sealed class EventStreamReader(HttpResponseMessage response) : IDisposable
{
    private StreamReader? _reader;

    /// <summary>The next event or comment; fails when none comes within <paramref name="timeout"/>.</summary>
    public async Task<ServerSentEvent> NextAsync(TimeSpan? timeout = null)
    {
        _reader ??= new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        string? id = null, type = null, comment = null;
        var data = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(limit.Token) ?? throw new InvalidOperationException("The stream ended.");
            if (line.Length == 0)
            {
                if (id is null && type is null && data.Length == 0 && comment is null)
                {
                    continue;
                }

                return new ServerSentEvent(id, type ?? "message", data.ToString(), comment);
            }

            if (line.StartsWith(':'))
            {
                comment = line[1..].Trim();
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }
    }

    /// <summary>Events (comments skipped) until one matches <paramref name="last"/>, that one included.</summary>
    public async Task<List<ServerSentEvent>> UntilAsync(Func<ServerSentEvent, bool> last, TimeSpan? timeout = null)
    {
        var events = new List<ServerSentEvent>();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            limit.Token.ThrowIfCancellationRequested();
            var next = await NextAsync(timeout);
            if (next.Comment is not null && next.Id is null)
            {
                continue;
            }

            events.Add(next);
            if (last(next))
            {
                return events;
            }
        }
    }

    public void Dispose()
    {
        _reader?.Dispose();
        response.Dispose();
    }
}
