using System.Text;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using CsCheck;
using Microsoft.OpenApi;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>
/// The public API driven by its own OpenAPI document: for every operation, requests with generated path ids (ours,
/// another tenant's, unknown, malformed), query values and bodies of every odd kind. Whatever comes in, no answer is a
/// 5xx, none carries a stack trace or SQL, and none shows anything of the other tenant. Bounded; CsCheck prints the
/// seed that replays a failure (set <c>CsCheck_Seed</c>).
/// </summary>
public sealed class ApiPropertyTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    // A whole system: hosted Connect configured (without it creating a link session is a deliberate 503).
    settings: new Dictionary<string, string?> { ["Api:WebBaseUrl"] = "http://127.0.0.1:5998/" })
{
    /// <summary>Requests per operation.</summary>
    private const int PerOperation = 10;

    private static readonly string[] OddStrings =
    [
        "", " ", "x", "0", "-1", "99999999999999999999", "true", "null", "2020-13-45", "1900-01-01", "9999-12-31T23:59:59Z",
        "' OR 1=1 --", "\"; DROP TABLE patients; --", "<script>alert(1)</script>", "../../etc/passwd", "%00", "%2e%2e%2f",
        "é漢字🙂", new string('a', 3000), "labs", "conditions", "Patient", "Observation", "http://127.0.0.1:1/x", "agg_test_x",
        "00000000-0000-0000-0000-000000000000",
    ];

    [Fact]
    public async Task No_generated_request_gets_a_5xx_a_stack_trace_or_another_tenants_data()
    {
        // Ours: a connected, synced patient. Theirs: another tenant's, connected and synced too.
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", Sandbox.Generated("nextgen", "DSTU2", 6), "property-ours");
        await Tenant.WaitForRunAsync(connectionId);
        var (other, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);
        var (otherPatient, otherConnection) = await Api.ConnectAsync(other, Sandbox, "sandbox-nextgen-r4", Sandbox.Generated("nextgen", "R4", 9), "property-theirs-7f3a");
        await other.WaitForRunAsync(otherConnection);
        var ourItems = await Tenant.AllItemsAsync(patientId);
        var theirItems = await other.AllItemsAsync(otherPatient);
        var theirs = new[] { otherPatient.ToString(), otherConnection.ToString(), "property-theirs-7f3a" }
            .Concat(theirItems.Take(20).Select(i => i.GetProperty("id").GetGuid().ToString())).ToList();
        var ids = new[] { patientId.ToString(), connectionId.ToString(), ourItems[0].GetProperty("id").GetGuid().ToString(), Guid.NewGuid().ToString() }
            .Concat(theirs.Take(4)).ToArray();

        using var documentStream = await Tenant.GetStreamAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken);
        var read = await OpenApiDocument.LoadAsync(documentStream, "json", cancellationToken: TestContext.Current.CancellationToken);
        var operations = read.Document!.Paths
            .SelectMany(path => path.Value.Operations!.Select(op => (Path: path.Key, Method: op.Key, Operation: op.Value,
                Parameters: (path.Value.Parameters ?? []).Concat(op.Value.Parameters ?? []).ToList())))
            // An event stream stays open by design; its handshake is tested elsewhere.
            .Where(op => op.Operation.Responses?.Values.Any(r => r.Content?.ContainsKey("text/event-stream") == true) != true)
            .ToList();
        Assert.True(operations.Count > 30, $"Only {operations.Count} operations were read from the document.");

        var client = Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = Tenant.DefaultRequestHeaders.Authorization;
        client.Timeout = TimeSpan.FromSeconds(30);
        var requests = 0;
        foreach (var (path, method, operation, parameters) in operations)
        {
            var pathParameters = parameters.Where(p => p.In == ParameterLocation.Path).Select(p => p.Name!).ToList();
            var queryParameters = parameters.Where(p => p.In == ParameterLocation.Query).ToList();
            var generator =
                // A PUT names what it creates (PUT /v1/patients/{x} registers external id x): never with their ids, or our own
                // data would carry them from then on.
                from pathValues in Gen.OneOf(method == HttpMethod.Put ? OddStrings : ids.Concat(OddStrings).ToArray()).Array[pathParameters.Count]
                from queryValues in Gen.Select(Gen.Bool, Gen.OneOf(OddStrings.Concat(ids).Concat(["1", "50", "200", "true", "false", "2024-01-01"]).ToArray())).Array[queryParameters.Count]
                from body in Body
                select (pathValues, queryValues, body);

            await generator.SampleAsync(async sample =>
            {
                var url = path;
                for (var i = 0; i < pathParameters.Count; i++)
                {
                    url = url.Replace("{" + pathParameters[i] + "}", Uri.EscapeDataString(sample.pathValues[i]), StringComparison.Ordinal);
                }

                var query = string.Join("&", queryParameters.Select((p, i) => (p, v: sample.queryValues[i]))
                    .Where(x => x.v.Item1).Select(x => $"{Uri.EscapeDataString(x.p.Name!)}={Uri.EscapeDataString(x.v.Item2)}"));
                using var request = new HttpRequestMessage(method, new Uri(url.TrimStart('/') + (query.Length > 0 ? "?" + query : ""), UriKind.Relative));
                if (operation.RequestBody is not null || method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch)
                {
                    request.Content = new StringContent(sample.body, Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                Interlocked.Increment(ref requests);
                var what = $"{method} {request.RequestUri} ({sample.body.Length} body chars) answered {(int)response.StatusCode}";
                Assert.True((int)response.StatusCode < 500, what + ": " + text[..Math.Min(500, text.Length)]);
                Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
                Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
                Assert.DoesNotContain("Npgsql", text, StringComparison.Ordinal);
                // What the request itself carried may come back (a new patient of ours named with their id): that is an echo, not their data.
                foreach (var marker in theirs.Where(m => !request.RequestUri!.OriginalString.Contains(m, StringComparison.Ordinal) && !sample.body.Contains(m, StringComparison.Ordinal)))
                {
                    Assert.False(text.Contains(marker, StringComparison.Ordinal), $"{what} with the other tenant's {marker}");
                }
            }, writeLine: TestContext.Current.SendDiagnosticMessage, iter: PerOperation, threads: 1);
        }

        TestContext.Current.SendDiagnosticMessage($"{requests} generated requests over {operations.Count} operations.");
        Assert.True(requests >= operations.Count * PerOperation);
    }

    /// <summary>Request bodies: empty, odd JSON, JSON of the wrong shape, objects with odd values for likely fields, not JSON at all.</summary>
    private static readonly Gen<string> Body = Gen.OneOf(
        Gen.OneOf("", "{}", "[]", "null", "42", "\"text\"", "not json", "{\"a\":", new string('[', 500) + new string(']', 500),
            "{\"returnUrl\":\"https://coral.example/connected\"}", "{\"resultCode\":\"x\"}", "{\"lifetimeMinutes\":-5}",
            "{\"lifetimeMinutes\":99999999999}", "{\"providerId\":\"00000000-0000-0000-0000-000000000000\",\"returnUrl\":\"javascript:alert(1)\"}"),
        Gen.Select(Gen.OneOf("returnUrl", "providerId", "connectionId", "resultCode", "lifetimeMinutes", "externalId", "displayName", "status"),
            Gen.OneOf<object?>(null, 0, -1, true, "", "x", new string('x', 10_000), new[] { 1, 2 }, new { nested = new { deeper = "y" } }))
            .Array[1, 4]
            .Select(pairs => JsonSerializer.Serialize(pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2))));
}
