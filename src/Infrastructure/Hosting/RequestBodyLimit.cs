using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Infrastructure.Hosting;

/// <summary>
/// Caps request bodies: a declared length over the cap is refused before it is read; a chunked
/// body is cut off by the server's own limit when it passes the cap.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next)
{
    public const long MaxBytes = 1024 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }

        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = MaxBytes;
        }

        return next(context);
    }
}
