var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/", () => TypedResults.Ok(new { service = "Aggregator Sandbox" }));
app.MapGet("/health/ready", () => TypedResults.Ok("Healthy"));
await app.RunAsync();

/// <summary>Public so that tests can host the sandbox with WebApplicationFactory.</summary>
public partial class Program;
