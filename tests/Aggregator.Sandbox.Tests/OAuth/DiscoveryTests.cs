using System.Net;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>What a SMART client reads before it starts: smart-configuration (R4), Conformance (DSTU2), JWKS.</summary>
public sealed class DiscoveryTests(SamplesSandbox sandbox)
{
    [Theory]
    [InlineData("nextgen")]
    [InlineData("epic")]
    [InlineData("cerner")]
    public async Task Each_R4_base_publishes_its_smart_configuration(string persona)
    {
        using var client = sandbox.Server.CreateClient();

        var configuration = await client.GetJsonAsync(new Uri(sandbox.Server.FhirBase(persona, "r4"), ".well-known/smart-configuration"));

        var root = sandbox.Server.Root.ToString();
        Assert.Equal(root + "oauth/authorize", (string?)configuration["authorization_endpoint"]);
        Assert.Equal(root + "oauth/token", (string?)configuration["token_endpoint"]);
        Assert.Equal(root + "oauth/revoke", (string?)configuration["revocation_endpoint"]);
        Assert.Equal(root + "oauth/introspect", (string?)configuration["introspection_endpoint"]);
        Assert.Equal(["S256"], Strings(configuration["code_challenge_methods_supported"]));
        Assert.Contains("private_key_jwt", Strings(configuration["token_endpoint_auth_methods_supported"]));
        Assert.Contains("client_secret_basic", Strings(configuration["token_endpoint_auth_methods_supported"]));
        var capabilities = Strings(configuration["capabilities"]);
        foreach (var capability in new[]
        {
            "launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
            "permission-offline", "permission-patient", "permission-v1", "permission-v2",
        })
        {
            Assert.Contains(capability, capabilities);
        }

        var jwks = await client.GetJsonAsync(new Uri((string)configuration["jwks_uri"]!));
        Assert.NotEmpty(jwks["keys"]!.AsArray());
    }

    [Fact]
    public async Task The_DSTU2_base_is_discovered_through_its_Conformance_statement_only()
    {
        using var client = sandbox.Server.CreateClient();
        var dstu2 = sandbox.Server.FhirBase("nextgen", "dstu2");

        using var smart = await client.GetAsync(new Uri(dstu2, ".well-known/smart-configuration"), TestContext.Current.CancellationToken);
        var conformance = await client.GetJsonAsync(new Uri(dstu2, "metadata"));

        Assert.Equal(HttpStatusCode.NotFound, smart.StatusCode);
        var uris = conformance["rest"]![0]!["security"]!["extension"]![0]!["extension"]!.AsArray()
            .ToDictionary(e => (string)e!["url"]!, e => (string)e!["valueUri"]!);
        Assert.Equal(new[] { "authorize", "introspect", "revoke", "token" }, uris.Keys.Order());
        Assert.Equal(sandbox.Server.Root + "oauth/revoke", uris["revoke"]);
    }

    [Fact]
    public async Task The_openid_configuration_offers_only_S256_and_the_two_client_authentication_methods()
    {
        using var client = sandbox.Server.CreateClient();

        var configuration = await client.GetJsonAsync(new Uri(sandbox.Server.Root, ".well-known/openid-configuration"));

        Assert.Equal(["S256"], Strings(configuration["code_challenge_methods_supported"]));
        Assert.Equal(["client_secret_basic", "private_key_jwt"], Strings(configuration["token_endpoint_auth_methods_supported"]).Order());
    }

    private static List<string> Strings(JsonNode? node) => node!.AsArray().Select(n => (string)n!).ToList();
}
