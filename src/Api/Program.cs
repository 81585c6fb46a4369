using Aggregator.Api;
using Aggregator.Api.Cli;
using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Jobs;

if (OperatorCommands.IsCommand(args))
{
    return await OperatorCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (!builder.TryAddInfrastructure(migrateOnStartup: true))
{
    return 1;
}

if (builder.Configuration.GetValue<bool>("Worker:InProcess"))
{
    builder.AddJobServer();
}

builder.AddApiServices();

var app = builder.Build();
app.UseServiceDefaults();
app.MapHealthEndpoints();
app.MapApiEndpoints();
await app.RunAsync();
return 0;
