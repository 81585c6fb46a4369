using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Sandbox.Accuracy;
using Aggregator.Sandbox.Generator;

namespace Aggregator.Sandbox.Demo;

/// <summary>
/// <c>demo connect</c> and <c>demo accuracy</c>: the sandbox's generated people, connected to a running
/// Aggregator the way a patient would (portal login and consent in the sandbox's own pages), for the
/// run command's demo and for measuring de-duplication against the generator's ground truth.
/// Both need the sandbox's test API (<c>Sandbox:TestApi=true</c>) for the logins and the truth.
/// </summary>
public static class DemoCommands
{
    /// <summary>Where a generated person is connected by <c>demo connect</c>: one R4 persona and one DSTU2 one.</summary>
    private static readonly (string Persona, string FhirVersion)[] DemoSources = [("epic", "R4"), ("nextgen", "DSTU2")];

    /// <summary>Where <c>demo accuracy</c> connects each person: every persona and version that serves generated people.</summary>
    private static readonly (string Persona, string FhirVersion)[] AllSources = [("nextgen", "R4"), ("nextgen", "DSTU2"), ("epic", "R4"), ("cerner", "R4")];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool IsCommand(string[] args) => args is ["demo", ..] or ["second-provider", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var api = new Option<string>("--api") { Description = "Aggregator's base url", Required = true };
        var sandbox = new Option<string>("--sandbox") { Description = "The sandbox's base url", Required = true };
        var key = new Option<string>("--key") { Description = "A tenant API key (default: $AGGREGATOR_API_KEY)" };
        var returnUrl = new Option<string?>("--return-url") { Description = "A return url registered for the tenant (default: {api}/demo/connected)" };

        var patient = new Option<string>("--patient") { Description = "The tenant's id for the demo patient", DefaultValueFactory = _ => "demo-patient" };
        var person = new Option<int>("--person") { Description = "Which generated person (0-based)", DefaultValueFactory = _ => 0 };
        var connect = new Command("connect", "Connects a generated person to an R4 persona (Epic) and a DSTU2 one (NextGen), waits for the syncs, prints the merged record's summary and, last, the patient's id.")
        {
            api, sandbox, key, returnUrl, patient, person,
        };
        connect.SetAction((parse, cancellationToken) => WithSessionAsync(parse, api, sandbox, key, returnUrl,
            session => ConnectDemoAsync(session, parse.GetValue(patient)!, parse.GetValue(person), cancellationToken)));

        var people = new Option<int>("--people") { Description = "How many generated people to measure", DefaultValueFactory = _ => 3 };
        var accuracy = new Command("accuracy", "Connects each generated person at every persona, then prints de-duplication precision and recall against the sandbox's ground truth. Exit code 3 when either is below 100%.")
        {
            api, sandbox, key, returnUrl, people,
        };
        accuracy.SetAction((parse, cancellationToken) => WithSessionAsync(parse, api, sandbox, key, returnUrl,
            session => MeasureAsync(session, parse.GetValue(people), cancellationToken)));

        var truth = new Option<string>("--truth") { Description = "A second provider's truth.json (from the second-provider command)", Required = true };
        var first = new Option<string>("--first") { Description = "The persona serving the original bundles", DefaultValueFactory = _ => "nextgen" };
        var second = new Option<string>("--second") { Description = "The persona serving the second provider", DefaultValueFactory = _ => "second" };
        var secondAccuracy = new Command("second-provider-accuracy", "Connects each patient of a second provider's truth at both personas (R4), then prints de-duplication precision and recall per category. Exit code 3 when any category's precision is below 100% or recall below 99%, or a resource is in no item.")
        {
            api, sandbox, key, returnUrl, truth, first, second,
        };
        secondAccuracy.SetAction((parse, cancellationToken) => WithSessionAsync(parse, api, sandbox, key, returnUrl,
            session => MeasureSecondProviderAsync(session, parse.GetValue(truth)!, parse.GetValue(first)!, parse.GetValue(second)!, cancellationToken)));

        var from = new Option<string>("--from") { Description = "A folder of R4 bundles (or a data folder with an r4 subfolder)", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write r4/*.json and truth.json", Required = true };
        var seed = new Option<int>("--seed") { Description = "The seed that makes the variations", DefaultValueFactory = _ => 16 };
        var omitted = new Option<int>("--omitted-percent") { Description = "The share of facts the second provider leaves out", DefaultValueFactory = _ => 8 };
        var build = new Command("second-provider", "Writes a second provider for each patient of real R4 bundles (the same facts written another EHR's way, some left out, near misses added) and the ground truth beside it.")
        {
            from, output, seed, omitted,
        };
        build.SetAction(async (parse, cancellationToken) =>
        {
            var written = SecondProvider.Write(parse.GetValue(from)!, parse.GetValue(output)!, parse.GetValue(seed), parse.GetValue(omitted));
            var variations = written.Patients.SelectMany(p => p.Variations).GroupBy(v => v.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Sum(v => v.Value)}");
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Wrote a second provider for {written.Patients.Count} patients ({written.Patients.Sum(p => p.Second.Count)} facts; {string.Join(", ", variations)})."));
            return 0;
        });

        var root = new RootCommand("Sandbox commands")
        {
            new Command("demo", "Drive a running Aggregator with the sandbox's patients") { connect, accuracy, secondAccuracy },
            build,
        };
        return await root.Parse(args).InvokeAsync();
    }

    private static async Task<int> WithSessionAsync(
        ParseResult parse, Option<string> api, Option<string> sandbox, Option<string> key, Option<string?> returnUrl, Func<DemoSession, Task<int>> command)
    {
        var apiKey = parse.GetValue(key) ?? Environment.GetEnvironmentVariable("AGGREGATOR_API_KEY");
        if (string.IsNullOrEmpty(apiKey))
        {
            await Console.Error.WriteLineAsync("error: give a tenant API key with --key or AGGREGATOR_API_KEY.");
            return 1;
        }

        if (!Uri.TryCreate(WithSlash(parse.GetValue(api)!), UriKind.Absolute, out var apiRoot)
            || !Uri.TryCreate(WithSlash(parse.GetValue(sandbox)!), UriKind.Absolute, out var sandboxRoot))
        {
            await Console.Error.WriteLineAsync("error: --api and --sandbox take absolute urls, e.g. http://127.0.0.1:5080");
            return 1;
        }

        using var apiClient = new HttpClient { BaseAddress = apiRoot, Timeout = TimeSpan.FromSeconds(60) };
        apiClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var sandboxClient = new HttpClient { BaseAddress = sandboxRoot, Timeout = TimeSpan.FromSeconds(60) };
        var session = new DemoSession(new AggregatorPartner(apiClient), new PatientAgent(sandboxRoot), sandboxClient,
            parse.GetValue(returnUrl) is { } given ? new Uri(given) : new Uri(apiRoot, "demo/connected"));
        try
        {
            return await command(session);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> ConnectDemoAsync(DemoSession session, string externalId, int person, CancellationToken cancellationToken)
    {
        var patientId = await session.Partner.PutPatientAsync(externalId, cancellationToken);
        var personId = (await session.LoginsAsync(cancellationToken)).Where(l => l.Source == "generated").Select(l => l.PersonId).Distinct()
            .Order(StringComparer.Ordinal).ElementAtOrDefault(person) ?? throw new InvalidOperationException($"The sandbox has no generated person {person}.");
        var connections = await session.ConnectAsync(patientId, personId, DemoSources, cancellationToken);
        var items = await session.Partner.AllItemsAsync(patientId, includeRetracted: false, cancellationToken);
        var fromBoth = items.Count(i => i.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("connectionId").GetGuid()).Distinct().Count() > 1);
        var categories = items.GroupBy(i => i.GetProperty("category").GetString()).OrderByDescending(g => g.Count()).Take(6)
            .Select(g => $"{g.Key} {g.Count()}");
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Demo patient '{externalId}': {items.Count} merged items from {connections.Count} providers, {fromBoth} of them stated by both ({string.Join(", ", categories)}, ...)."));
        await Console.Out.WriteLineAsync(patientId.ToString());
        return 0;
    }

    private static async Task<int> MeasureAsync(DemoSession session, int people, CancellationToken cancellationToken)
    {
        var logins = await session.LoginsAsync(cancellationToken);
        var persons = logins.Where(l => l.Source == "generated").Select(l => l.PersonId).Distinct().Order(StringComparer.Ordinal).Take(people).ToList();
        var factOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var itemOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var allPerfect = true;
        for (var index = 0; index < persons.Count; index++)
        {
            var patientId = await session.Partner.PutPatientAsync($"dedup-accuracy-{index}", cancellationToken);
            var connections = await session.ConnectAsync(patientId, persons[index], AllSources, cancellationToken);
            var truth = await session.Sandbox.GetFromJsonAsync<List<PersonOverlap>>(
                new Uri($"_test/overlap?personId={Uri.EscapeDataString(persons[index])}", UriKind.Relative), Json, cancellationToken) ?? [];
            var personFacts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var fact in truth.SelectMany(p => p.Facts))
            {
                foreach (var resource in fact.Resources)
                {
                    if (connections.TryGetValue((resource.Persona, resource.FhirVersion), out var connection))
                    {
                        personFacts[$"{connection}|{resource.ResourceType}/{resource.ResourceId}"] = fact.FactId;
                    }
                }
            }

            var personItems = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in await session.Partner.AllItemsAsync(patientId, includeRetracted: true, cancellationToken))
            {
                foreach (var source in item.GetProperty("sources").EnumerateArray())
                {
                    personItems[$"{source.GetProperty("connectionId").GetGuid()}|{source.GetProperty("resourceType").GetString()}/{source.GetProperty("resourceId").GetString()}"] =
                        item.GetProperty("id").GetString()!;
                }
            }

            var score = DeduplicationScore.Compute(personFacts, personItems);
            allPerfect &= score.Precision == 1.0 && score.Recall == 1.0 && score.Missing.Count == 0;
            await Console.Out.WriteLineAsync($"person {index} ({persons[index]}): {score}");
            foreach (var (k, v) in personFacts)
            {
                factOf[k] = v;
            }

            foreach (var (k, v) in personItems)
            {
                itemOf[k] = v;
            }
        }

        await Console.Out.WriteLineAsync($"all {persons.Count} people: {DeduplicationScore.Compute(factOf, itemOf)}");
        return allPerfect ? 0 : 3;
    }

    /// <summary>
    /// Connects each patient of a second provider's truth at the persona serving the original bundles and at the
    /// one serving the second provider, then scores the merged record per category against the truth.
    /// </summary>
    private static async Task<int> MeasureSecondProviderAsync(DemoSession session, string truthFile, string first, string second, CancellationToken cancellationToken)
    {
        var truth = SecondProviderTruth.Read(truthFile);
        var logins = await session.LoginsAsync(cancellationToken);
        var factOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var placements = new Dictionary<string, Placement>(StringComparer.Ordinal);
        foreach (var (patient, index) in truth.Patients.Select((p, i) => (p, i)))
        {
            PortalLogin At(string persona) => logins.FirstOrDefault(l => l.Persona == persona && l.FhirVersion == "R4" && l.Source == patient.Source)
                ?? throw new InvalidOperationException($"The sandbox serves no patient from {patient.Source} at {persona} (R4).");
            var patientId = await session.Partner.PutPatientAsync($"second-provider-{index}", cancellationToken);
            var connections = await session.ConnectAsync(patientId, [At(first), At(second)], cancellationToken);
            var items = await session.Partner.AllItemsAsync(patientId, includeRetracted: true, cancellationToken);
            var firstLogin = At(first);
            var prefix = firstLogin.PatientId.EndsWith(patient.OriginalPatientId, StringComparison.Ordinal) ? firstLogin.PatientId[..^patient.OriginalPatientId.Length] : "";
            var (patientFacts, patientPlacements) = SecondProviderScoring.Collect(patient, connections[(first, "R4")], prefix, connections[(second, "R4")], items);
            await Console.Out.WriteLineAsync($"{patient.Source}: {DeduplicationScore.Compute(patientFacts, patientPlacements.ToDictionary(p => p.Key, p => p.Value.ItemId, StringComparer.Ordinal))}");
            foreach (var (key, fact) in patientFacts)
            {
                factOf[key] = fact;
            }

            foreach (var (key, placement) in patientPlacements)
            {
                placements[key] = placement;
            }
        }

        var scores = CategoryScores.Compute(factOf, placements);
        await Console.Out.WriteLineAsync($"all {truth.Patients.Count} patients, per category (seed {truth.Seed}):");
        await Console.Out.WriteLineAsync(scores.ToString());
        // Nothing judged is no pass: a wrong persona or an empty sync leaves resources out of every item.
        return scores.All.Missing.Count == 0 && scores.All.TruePairs > 0 && scores.All.Precision == 1.0
            && scores.ByCategory.Values.All(c => c.Precision == 1.0 && c.Recall >= 0.99) ? 0 : 3;
    }

    private static string WithSlash(string url) => url.EndsWith('/') ? url : url + "/";

    private sealed record DemoSession(AggregatorPartner Partner, PatientAgent Agent, HttpClient Sandbox, Uri ReturnUrl)
    {
        public async Task<List<PortalLogin>> LoginsAsync(CancellationToken cancellationToken) =>
            await Sandbox.GetFromJsonAsync<List<PortalLogin>>(new Uri("_test/patients", UriKind.Relative), Json, cancellationToken)
                ?? throw new InvalidOperationException("The sandbox listed no patients; is it running with Sandbox:TestApi=true?");

        /// <summary>Connects the generated person <paramref name="personId"/> at each source (reusing active connections) and waits for their syncs.</summary>
        public async Task<Dictionary<(string Persona, string FhirVersion), Guid>> ConnectAsync(
            Guid patientId, string personId, IEnumerable<(string Persona, string FhirVersion)> sources, CancellationToken cancellationToken)
        {
            var logins = await LoginsAsync(cancellationToken);
            return await ConnectAsync(patientId, sources.Select(source =>
                logins.FirstOrDefault(l => l.Persona == source.Persona && l.FhirVersion == source.FhirVersion && l.Source == "generated" && l.PersonId == personId)
                ?? throw new InvalidOperationException($"The sandbox does not serve {personId} at {source.Persona} {source.FhirVersion}.")).ToList(), cancellationToken);
        }

        /// <summary>Signs in with each login (reusing active connections) and waits for the syncs.</summary>
        public async Task<Dictionary<(string Persona, string FhirVersion), Guid>> ConnectAsync(Guid patientId, IReadOnlyList<PortalLogin> logins, CancellationToken cancellationToken)
        {
            var connections = new Dictionary<(string, string), Guid>();
            foreach (var login in logins)
            {
                var (persona, version) = (login.Persona, login.FhirVersion);
                var providerId = await Partner.ProviderIdAsync($"sandbox-{persona}-{version.ToLowerInvariant()}", cancellationToken);
                if (await Partner.ActiveConnectionAsync(patientId, providerId, cancellationToken) is { } existing)
                {
                    connections[(persona, version)] = existing;
                    continue;
                }

                var (connectionId, authorizeUrl) = await Partner.StartConnectAsync(patientId, providerId, ReturnUrl, cancellationToken);
                var landing = await Agent.ConnectAsync(authorizeUrl, login, cancellationToken);
                if (PatientAgent.Failure(landing) is { } failure)
                {
                    throw new InvalidOperationException($"Connecting {login.Username} at {persona} {version} failed: {failure}");
                }

                // As a partner's backend does: redeem the result code from the return url, which binds the connection.
                await Partner.ConfirmAsync(connectionId, PatientAgent.ResultCode(landing), cancellationToken);
                connections[(persona, version)] = connectionId;
            }

            foreach (var ((persona, version), connectionId) in connections)
            {
                var status = await Partner.WaitForSyncAsync(connectionId, TimeSpan.FromMinutes(5), cancellationToken);
                await Console.Error.WriteLineAsync($"  {persona} {version}: connection {connectionId}, sync {status}");
            }

            return connections;
        }
    }
}
