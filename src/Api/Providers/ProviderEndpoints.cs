using Aggregator.Api.Authentication;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Providers;

namespace Aggregator.Api.Providers;

public static class ProviderEndpoints
{
    public static IEndpointRouteBuilder MapProviderEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/providers")
            .WithTags("Providers")
            .RequireAuthorization(AuthenticationSetup.DirectoryPolicy);
        group.MapGet("/", SearchProviders)
            .WithName("searchProviders")
            .WithSummary("Search the provider directory")
            .WithDescription("Every word of `q` must appear in the name, brand or location. One entry is one FHIR base: NextGen R4 and NextGen DSTU2 are two entries of one brand.");
        group.MapGet("/{id:guid}", GetProvider)
            .WithName("getProvider").WithSummary("One directory entry");
        return endpoints;
    }

    private static async Task<Ok<PageResponse<ProviderResponse>>> SearchProviders(
        ProviderDirectory directory, string? q, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var page = await directory.SearchAsync(q, limit, cursor, cancellationToken);
        return TypedResults.Ok(new PageResponse<ProviderResponse>([.. page.Items.Select(ProviderResponse.From)], page.NextCursor));
    }

    private static async Task<Results<Ok<ProviderResponse>, ProblemHttpResult>> GetProvider(
        Guid id, ProviderDirectory directory, CancellationToken cancellationToken)
    {
        var provider = await directory.FindAsync(id, cancellationToken);
        return provider is null
            ? TypedResults.Problem(title: "Provider not found", statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound)
            : TypedResults.Ok(ProviderResponse.From(provider));
    }
}

/// <summary>A directory entry. <c>fhirVersion</c> is <c>R4</c> or <c>DSTU2</c>.</summary>
public sealed record ProviderResponse(Guid Id, string Name, string Brand, string FhirVersion, string FhirBaseUrl, string? Location, string Slug)
{
    public static ProviderResponse From(Provider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return new(provider.Id, provider.Name, provider.Brand, provider.FhirVersion == Domain.Providers.FhirVersion.Dstu2 ? "DSTU2" : "R4",
            provider.FhirBaseUrl, provider.Location, provider.Slug);
    }
}
