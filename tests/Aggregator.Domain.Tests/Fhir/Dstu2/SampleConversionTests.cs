using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2;

namespace Aggregator.Domain.Tests.Fhir.Dstu2;

/// <summary>Every DSTU2 sample file converts: each resource of a mapped type to R4 that Firely accepts.</summary>
public sealed class SampleConversionTests
{
    public static TheoryData<string> SampleFiles => new(Dstu2Samples.FileNames);

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Every_mapped_resource_of_the_sample_converts_to_R4_that_Firely_accepts(string fileName)
    {
        var problems = new List<string>();
        var converted = 0;
        foreach (var sample in Dstu2Samples.ResourcesIn(fileName).Where(sample => Dstu2ToR4.IsMapped(sample.Type)))
        {
            var conversion = Dstu2ToR4.Convert(sample.Resource);
            if (!conversion.Succeeded)
            {
                problems.Add($"{sample}: {conversion.Error}");
                continue;
            }

            var r4 = conversion.Resource!;
            if (r4.At("resourceType") != Dstu2ToR4.R4TypeOf(sample.Type))
            {
                problems.Add($"{sample}: became {r4.At("resourceType")}");
            }

            if (R4Assert.ParseProblems(r4, out _) is { } rejected)
            {
                problems.Add($"{sample}: {rejected}");
            }

            converted++;
        }

        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
        Assert.True(converted > 0, $"{fileName} holds no resource of a mapped type");
    }

    [Fact]
    public void Every_sample_resource_type_is_mapped_and_an_unmapped_type_is_refused_with_a_reason()
    {
        var unmapped = Dstu2Samples.All.Where(sample => !Dstu2ToR4.IsMapped(sample.Type)).Select(sample => sample.Type).Distinct().ToList();
        var flag = Dstu2ToR4.Convert(new JsonObject { ["resourceType"] = "Flag", ["id"] = "f1", ["status"] = "active" });

        Assert.Empty(unmapped);
        Assert.False(flag.Succeeded);
        Assert.Contains("Flag", flag.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resources_without_an_id_convert_and_keep_having_none()
    {
        var withoutId = Dstu2Samples.All.Where(sample => sample.Resource["id"] is null).ToList();

        Assert.Equal(166, withoutId.Count);
        Assert.All(withoutId, sample =>
        {
            var r4 = R4Assert.Converts(sample.Resource);
            Assert.Null(r4["id"]);
        });
    }

    [Fact]
    public void Converting_leaves_every_sample_resource_unchanged()
    {
        foreach (var sample in Dstu2Samples.All)
        {
            var before = sample.Resource.ToJsonString();

            var conversion = Dstu2ToR4.Convert(sample.Resource);

            Assert.Equal(before, sample.Resource.ToJsonString());
            Assert.NotSame(sample.Resource, conversion.Resource);
        }
    }
}
