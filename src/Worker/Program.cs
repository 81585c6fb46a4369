using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Observability;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (!builder.TryAddInfrastructure(migrateOnStartup: false))
{
    return 1;
}

builder.AddJobServer();

var app = builder.Build();
app.UseServiceDefaults();
app.MapHealthEndpoints();
app.MapOperatorMetrics();
await app.RunAsync();
return 0;
