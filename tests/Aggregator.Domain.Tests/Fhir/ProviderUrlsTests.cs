using Aggregator.Domain.Fhir;

namespace Aggregator.Domain.Tests.Fhir;

/// <summary>Where a provider's links lead, and the id its document content is kept under, whichever way it wrote them.</summary>
public sealed class ProviderUrlsTests
{
    private static readonly Uri Base = new("https://ehr.example/fhir/r4/");

    [Theory]
    [InlineData("Binary/17", "https://ehr.example/fhir/r4/Binary/17")]
    [InlineData("/Binary/17", "https://ehr.example/fhir/r4/Binary/17")]
    [InlineData("/fhir/r4/Binary/17", "https://ehr.example/fhir/r4/Binary/17")]
    [InlineData("/Observation?_page=abc", "https://ehr.example/fhir/r4/Observation?_page=abc")]
    [InlineData("/fhir/r4?_getpages=x", "https://ehr.example/fhir/r4?_getpages=x")]
    [InlineData("/FHIR/R4/Binary/17", "https://ehr.example/FHIR/R4/Binary/17")]
    [InlineData("https://ehr.example/fhir/r4/Observation?_page=abc", "https://ehr.example/fhir/r4/Observation?_page=abc")]
    [InlineData("https://elsewhere.example/x", "https://elsewhere.example/x")]
    [InlineData("//elsewhere.example/x", "https://elsewhere.example/x")]
    public void Links_resolve_against_the_FHIR_base(string link, string expected) =>
        Assert.Equal(new Uri(expected), ProviderUrls.Resolve(Base, link));

    [Theory]
    [InlineData("urn:uuid:6f1c4b1e-0000-4000-8000-000000000001")]
    [InlineData("cid:part1@example")]
    [InlineData("file:///etc/passwd")]
    [InlineData("  ")]
    public void What_is_not_a_web_address_resolves_to_nothing(string link) => Assert.Null(ProviderUrls.Resolve(Base, link));

    [Fact]
    public void A_base_without_a_trailing_slash_keeps_its_last_segment() =>
        Assert.Equal(new Uri("https://ehr.example/fhir/r4/Binary/1"), ProviderUrls.Resolve(new Uri("https://ehr.example/fhir/r4"), "/Binary/1"));

    [Theory]
    [InlineData("Binary/17")]
    [InlineData("/Binary/17")]
    [InlineData("https://ehr.example/fhir/r4/Binary/17")]
    [InlineData("https://ehr.example/fhir/r4/Binary/17?_format=json")]
    public void Every_spelling_of_a_Binary_url_keeps_the_Binary_id(string url) => Assert.Equal("17", ProviderUrls.DocumentId(url));

    [Fact]
    public void Other_urls_get_a_stable_id_of_their_own()
    {
        var id = ProviderUrls.DocumentId("https://ehr.example/fhir/r4/documents/17");

        Assert.StartsWith("url-", id, StringComparison.Ordinal);
        Assert.Equal(id, ProviderUrls.DocumentId("https://ehr.example/fhir/r4/documents/17"));
        Assert.NotEqual(id, ProviderUrls.DocumentId("https://ehr.example/fhir/r4/documents/18"));
    }
}
