using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Aggregator.Benchmarks;

/// <summary>Our infrastructure in the benchmark's own process, as a Worker has it (Production, the key ring, quiet logs).</summary>
internal static class BenchHost
{
    /// <summary>Builds the host over <paramref name="connectionString"/>; <paramref name="settings"/> go over the defaults. Not migrated.</summary>
    public static IHost Build(string connectionString, string keyRingCertificatePath, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Aggregator"] = connectionString,
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["DataProtection:CertificatePath"] = keyRingCertificatePath,
            ["DataProtection:CertificatePassword"] = "",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.AddServiceDefaults(logToStandardError: true);
        builder.AddInfrastructure(migrateOnStartup: false);
        return builder.Build();
    }
}
