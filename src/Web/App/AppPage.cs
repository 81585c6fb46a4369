using Aggregator.Web.ApiClient;
using Microsoft.AspNetCore.Components;

namespace Aggregator.Web.App;

/// <summary>
/// A page of the companion app: it knows the signed-in patient (from the session cookie, checked with the Api) and
/// loads what it shows with that patient's token. Signed out, the page says so instead of showing anything.
/// </summary>
public abstract class AppPage : ComponentBase
{
    [Inject]
    protected AggregatorApi Api { get; set; } = default!;

    [CascadingParameter]
    public HttpContext HttpContext { get; set; } = default!;

    protected string Token { get; private set; } = "";

    protected SignedIn? Patient { get; private set; }

    /// <summary>Set when something could not be loaded; the page shows it.</summary>
    protected string? Problem { get; set; }

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    protected override async Task OnInitializedAsync()
    {
        if (await AppSession.CurrentAsync(HttpContext, Api) is not { } current)
        {
            return;
        }

        (Token, Patient) = (current.Token, current.Patient);
        try
        {
            await LoadAsync();
        }
        catch (ApiProblemException problem)
        {
            Problem = problem.Status == 404 ? "This is not in your record (any more)." : "Your record could not be loaded just now. Please try again.";
        }
    }

    /// <summary>What the page loads for the signed-in patient.</summary>
    protected abstract Task LoadAsync();
}
