using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Jobs;

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
await app.RunAsync();
return 0;
