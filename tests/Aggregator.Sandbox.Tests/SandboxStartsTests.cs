using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Aggregator.Sandbox.Tests;

public sealed class SandboxStartsTests
{
    [Fact]
    public async Task The_sandbox_starts_and_answers_ready()
    {
        await using var sandbox = new WebApplicationFactory<Program>();

        var response = await sandbox.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
