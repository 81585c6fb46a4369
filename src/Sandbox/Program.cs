// Sandbox = the stand-in EHR: a SMART authorization server and FHIR R4/DSTU2 APIs for several provider personas.
using Aggregator.Sandbox;
using Aggregator.Sandbox.Authorization;
using Aggregator.Sandbox.Demo;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.Health;
using Aggregator.Sandbox.TestApi;
using Aggregator.Sandbox.Traffic;

if (DemoCommands.IsCommand(args))
{
    return await DemoCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSandbox(builder.Configuration);

var app = builder.Build();
app.UseExceptionHandler();
app.UseMiddleware<TokenRequestCounting>(); // before the authorization server, which answers token requests itself
app.UseAuthentication();
app.MapHealthEndpoints();
app.MapOAuthEndpoints();
app.MapSmartConfigurationEndpoints();
app.MapFhirEndpoints();
app.MapTestApiEndpoints();

await app.RunAsync();
return 0;
