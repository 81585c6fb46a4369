using System.Collections.Concurrent;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>Logs at the configured levels never carry a credential, a token or a patient's name.</summary>
public sealed class LogHygieneTests
{
    [Fact]
    public async Task A_whole_authorization_and_refresh_cycle_logs_no_secret()
    {
        var logs = new CapturingLoggerProvider();
        await using var sandbox = await SandboxServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Sandbox:DataDir"] = FhirSamples.Directory,
                ["Sandbox:TestApi"] = "true",
                ["Logging:LogLevel:Default"] = "Debug",
            },
            services => services.AddSingleton<ILoggerProvider>(logs),
            cancellationToken: TestContext.Current.CancellationToken);
        var patient = (await sandbox.TestPatientsAsync()).First(p => p.Persona == "nextgen" && p.FhirVersion == "R4");
        var app = new SmartApp(sandbox, SandboxClient.Confidential("nextgen"));
        var aud = sandbox.FhirBase("nextgen", "r4");

        using var login = await app.StartAsync(aud, "launch/patient offline_access patient/*.read");
        using var wrongPassword = await app.SubmitAsync(login, new Dictionary<string, string> { ["username"] = patient.Username, ["password"] = "Wrong-Password-1" });
        var redirect = await app.AuthorizeAsync(aud, patient, "launch/patient openid fhirUser offline_access patient/*.read");
        var code = SmartApp.QueryValue(redirect, "code")!;
        var tokens = await app.ExchangeAsync(code);
        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);
        var reused = await app.RefreshAsync(tokens.RefreshToken!);
        await app.IntrospectAsync(refreshed.AccessToken!);
        using var revoked = await app.RevokeAsync(refreshed.RefreshToken!, "refresh_token");

        Assert.Equal("invalid_grant", reused.Error);
        var secrets = new[]
        {
            code, app.Verifier, tokens.AccessToken!, tokens.RefreshToken!, tokens.IdToken!, refreshed.AccessToken!,
            refreshed.RefreshToken!, patient.Password, "Wrong-Password-1", "nextgen-sandbox-secret", patient.Name,
        };
        Assert.NotEmpty(logs.Messages);
        foreach (var message in logs.Messages)
        {
            Assert.DoesNotContain(secrets, secret => message.Contains(secret, StringComparison.Ordinal));
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Messages);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(string category, ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
