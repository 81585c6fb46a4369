namespace Aggregator.Infrastructure.Records;

/// <summary>
/// The names a page's cursor is bound to (<see cref="Paging.CursorCodec"/>): one per listing of the record and its
/// filters, so that a cursor of one listing is refused by another. The Api names the listing a request reads; the
/// rebuild names the first pages it renders, whose cursors the Api then reads back.
/// </summary>
public static class RecordListings
{
    /// <summary>A category of the record, with the request's filters (none for its first page).</summary>
    public static string Category(
        Guid patientId, string category, DateOnly? from = null, DateOnly? to = null, string? code = null, string? status = null,
        Guid? provider = null, string? q = null, bool? includeRetracted = null) =>
        $"record:{patientId}:{category}:{from}:{to}:{code}:{status}:{provider}:{q}:{includeRetracted}";

    /// <summary>The timeline, with the request's words (none for its first page).</summary>
    public static string Timeline(Guid patientId, string? q = null) => $"timeline:{patientId}:{q}";
}
