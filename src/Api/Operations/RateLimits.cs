using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Operations;

/// <summary><c>RateLimits:*</c>: how many requests a second a tenant, and an anonymous caller's address, may make.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Every credential of one tenant together (API keys, its patients' session tokens, its Connect pages).</summary>
    public int PerTenantPerSecond { get; set; } = 200;

    /// <summary>Requests without a valid credential (the OAuth callback, the docs, refused credentials), per client address.</summary>
    public int AnonymousPerIpPerSecond { get; set; } = 20;
}

/// <summary>
/// Token buckets, one per tenant and one per anonymous client address, refilled every second (a burst may use a whole
/// second's worth at once). Past the limit the answer is 429 with <c>Retry-After</c> and a problem document. Health
/// endpoints are not limited.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddApiRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section));
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
            limiter.OnRejected = RejectAsync;
        });
        return services;
    }

    private static RateLimitPartition<string> Partition(HttpContext http)
    {
        if (http.Request.Path.StartsWithSegments("/health"))
        {
            return RateLimitPartition.GetNoLimiter("health");
        }

        var limits = http.RequestServices.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue;
        return http.User.FindFirstValue(ApiClaims.TenantId) is { } tenant
            ? RateLimitPartition.GetTokenBucketLimiter("tenant:" + tenant, _ => Bucket(limits.PerTenantPerSecond))
            : RateLimitPartition.GetTokenBucketLimiter("ip:" + http.Connection.RemoteIpAddress, _ => Bucket(limits.AnonymousPerIpPerSecond));
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = Math.Max(1, perSecond),
        TokensPerPeriod = Math.Max(1, perSecond),
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.ForStatus(StatusCodes.Status429TooManyRequests),
                Title = "Too many requests",
                Detail = "This tenant (or this address, without a credential) sent more requests than its limit per second. Retry after the time in Retry-After.",
            },
        });
    }
}
