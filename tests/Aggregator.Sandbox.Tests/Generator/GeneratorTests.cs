using System.Text.Json;
using Aggregator.Sandbox.Generator;
using Aggregator.Sandbox.Personas;
using Aggregator.Sandbox.Tests.Hosting;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Sandbox.Tests.Generator;

/// <summary>The generator itself: deterministic, and its R4 output is FHIR that Firely reads without complaint.</summary>
public sealed class GeneratorTests(SamplesSandbox sandbox)
{
    private PeopleGenerator Generator => sandbox.Server.Services.GetRequiredService<PeopleGenerator>();

    [Fact]
    public void The_same_seed_makes_byte_identical_resources_and_another_seed_other_people()
    {
        var first = Serialized(Generator.Generate(42, 3));
        var again = Serialized(Generator.Generate(42, 3));
        var other = Serialized(Generator.Generate(7, 3));

        Assert.True(first.Count > 1000, $"Only {first.Count} resources.");
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.DoesNotContain(first.Intersect(other), r => r.Contains("\"Patient\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_sandbox_serves_exactly_what_the_generator_makes()
    {
        var population = Generator.Generate(SamplesSandbox.GeneratorSeed, SamplesSandbox.GeneratedPeople);
        var records = await GeneratedRecords.LoadAsync(sandbox, 1);
        var epic = new BaseName("epic", "R4");

        var generated = population.Resources("epic", FhirVersion.R4).ToDictionary(r => $"{r["resourceType"]}/{r["id"]}");
        foreach (var (reference, served) in records.Resources[epic])
        {
            Assert.Equal(generated[reference].ToJsonString(), served.ToJsonString());
        }
    }

    [Fact]
    public void Every_generated_R4_resource_parses_with_the_Firely_deserializer_without_issues()
    {
        var population = Generator.Generate(SamplesSandbox.GeneratorSeed, SamplesSandbox.GeneratedPeople);
        var deserializer = new FhirJsonDeserializer(new DeserializerSettings());

        var parsed = 0;
        foreach (var persona in new[] { "nextgen", "epic", "cerner" })
        {
            foreach (var resource in population.Resources(persona, FhirVersion.R4))
            {
                var json = resource.ToJsonString();
                var ok = deserializer.TryDeserializeResource(json, out var poco, out var issues);
                Assert.True(ok && !issues.Any(), $"{resource["resourceType"]}/{resource["id"]}: {string.Join("; ", issues.Select(i => i.Message))}");
                Assert.Equal((string?)resource["resourceType"], poco!.TypeName);
                parsed++;
            }
        }

        Assert.True(parsed > 500, $"Only {parsed} resources parsed.");
    }

    [Fact]
    public void Home_readings_make_the_first_person_that_much_larger_at_primary_care_and_change_nothing_else()
    {
        var plain = Generator.Generate(42, 3);
        var large = Generator.Generate(42, 3, homeReadings: 300);

        // Everything else stays as it was (but the Patient's meta.lastUpdated at primary care, now the last reading's).
        Assert.DoesNotContain(Serialized(plain).Except(Serialized(large)), r => !r.StartsWith("{\"resourceType\":\"Patient\"", StringComparison.Ordinal));
        foreach (var (persona, version) in new[] { ("epic", FhirVersion.R4), ("cerner", FhirVersion.R4) })
        {
            Assert.Equal(plain.Resources(persona, version).Count, large.Resources(persona, version).Count);
        }

        foreach (var version in new[] { FhirVersion.R4, FhirVersion.Dstu2 })
        {
            var before = plain.Resources("nextgen", version).Select(r => JsonSerializer.Serialize(r)).ToHashSet();
            var added = large.Resources("nextgen", version).Where(r => (string?)r["resourceType"] != "Patient" && !before.Contains(JsonSerializer.Serialize(r))).ToList();
            Assert.Equal(300, added.Count);
            Assert.All(added, r => Assert.Equal("Observation", (string?)r["resourceType"]));
            // One patient's readings (the first person's), each at its own time, with a heart rate, a saturation or a weight.
            Assert.Single(added.Select(r => (string?)r["subject"]?["reference"]).Distinct());
            Assert.Equal(300, added.Select(r => (string?)r["effectiveDateTime"]).Distinct().Count());
            Assert.Equal(["29463-7", "59408-5", "8867-4"], added.Select(r => (string?)r["code"]?["coding"]?[0]?["code"]).Distinct().Order(StringComparer.Ordinal));
        }
    }

    private static List<string> Serialized(GeneratedPopulation population) =>
        [.. new[] { ("nextgen", FhirVersion.R4), ("nextgen", FhirVersion.Dstu2), ("epic", FhirVersion.R4), ("cerner", FhirVersion.R4) }
            .SelectMany(b => population.Resources(b.Item1, b.Item2))
            .Select(r => JsonSerializer.Serialize(r))];
}
