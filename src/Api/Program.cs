using Aggregator.Api;
using Aggregator.Api.Cli;
using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Observability;

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

if (!builder.Environment.IsDevelopment() && string.IsNullOrWhiteSpace(builder.Configuration["Api:PublicBaseUrl"]))
{
    // Outside Development the OAuth redirect_uri and every url we hand out must not follow a request's Host header.
    Console.Error.WriteLine("No public base url: set Api__PublicBaseUrl (how patients' browsers and partners reach this Api, e.g. https://api.example.com); only Development runs without one.");
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
app.MapOperatorMetrics();
app.MapApiEndpoints();
await app.RunAsync();
return 0;
