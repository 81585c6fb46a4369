namespace Aggregator.Api;

/// <summary>
/// An answer whose body is UTF-8 bytes already (a page from the record cache): written as it is, with its length,
/// so that serving it neither encodes nor copies it.
/// </summary>
internal sealed class Utf8Body(byte[] body, string contentType) : IResult, IContentTypeHttpResult, IStatusCodeHttpResult
{
    public string ContentType => contentType;

    public int? StatusCode => StatusCodes.Status200OK;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = contentType;
        httpContext.Response.ContentLength = body.Length;
        // As Results.Text writes: a client that went away is Kestrel's to notice, not an exception of ours.
        return httpContext.Response.Body.WriteAsync(body).AsTask();
    }
}
