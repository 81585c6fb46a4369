// Aggregator.Web: the hosted Connect page and the companion app, over the public REST API only; no database.
using Aggregator.Web.Components;
using Aggregator.Web.Connect;
using Aggregator.Web.ApiClient;
using Aggregator.Web.App;
using Aggregator.Web.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (!builder.AddWebDefaults())
{
    return 1;
}

builder.Services.AddRazorComponents();
builder.AddAggregatorApi();

var app = builder.Build();
app.UseWebDefaults();
app.MapStaticAssets();
app.MapConnectEndpoints();
app.MapAppEndpoints();
app.MapRazorComponents<App>();
await app.RunAsync();
return 0;
