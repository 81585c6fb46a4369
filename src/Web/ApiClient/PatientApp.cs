using System.Reflection;
using Microsoft.Kiota.Abstractions;
using Models = Aggregator.Web.ApiClient.Generated.Models;

namespace Aggregator.Web.ApiClient;

// What the companion app reads and does, over the generated client with the patient's session token (and, where
// only a tenant may act, the app's own key). The pages get plain view records; they never see the wire.

public sealed record SignedIn(Guid PatientId, string TenantName, DateTimeOffset ExpiresAt);

public sealed record ConnectionView(
    Guid Id, string Provider, string Status, DateTimeOffset? LastSuccessAt, string? LastError, string? ReconnectReason, DateTimeOffset? RefreshTokenExpiresAt);

public sealed record CategoryCountView(string Category, int Count);

public sealed record RecordSummaryView(long Version, DateTimeOffset? UpdatedAt, string? Name, string? BirthDate, IReadOnlyList<CategoryCountView> Categories, IReadOnlyList<string> Providers);

public sealed record SourceView(Guid ConnectionId, string Provider, string ResourceType, string ResourceId, bool Shown, string? Display, string? Status, string? Value, string? Effective, string? RawJson);

public sealed record ItemView(
    Guid Id, string Category, string? Display, string? Effective, string? Status, string? Value, string? Interpretation, string? ReferenceRange,
    string? Code, string? CodeKey, string? MergedBy, IReadOnlyList<SourceView> Sources, bool HasContent)
{
    public IReadOnlyList<string> Providers => [.. Sources.Select(s => s.Provider).Distinct(StringComparer.Ordinal)];
}

public sealed record ItemPageView(IReadOnlyList<ItemView> Items, string? NextCursor);

public sealed record TrendPointView(DateTimeOffset Effective, double Value, string? Unit, double? Low, double? High, IReadOnlyList<string> Providers);

public sealed record TrendView(string Code, string? Display, string? Unit, IReadOnlyList<TrendPointView> Points);

public sealed record AccessView(DateTimeOffset OccurredAt, string Who, string What);

/// <summary>Filters of a record list; all optional.</summary>
public sealed record ItemFilter(DateOnly? From = null, DateOnly? To = null, Guid? Provider = null, string? Text = null);

public static class PatientApp
{
    public static async Task<SignedIn> SessionAsync(this AggregatorApi api, string session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var me = await api.CallAsync(session, client => client.V1.Session.GetAsync(cancellationToken: cancellationToken));
        return new SignedIn(me!.PatientId!.Value, me.TenantName!, me.ExpiresAt!.Value);
    }

    public static async Task<IReadOnlyList<ConnectionView>> ConnectionsAsync(this AggregatorApi api, string session, Guid patientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var page = await api.CallAsync(session, client => client.V1.Patients[patientId].Connections.GetAsync(cancellationToken: cancellationToken));
        return [.. (page?.Items ?? [])
            // Attempts the patient never finished are not connections yet.
            .Where(c => c.Status is not (Models.ConnectionStatus.Pending or Models.ConnectionStatus.Pending_confirmation))
            .Select(c => new ConnectionView(c.Id!.Value, c.ProviderName!, AggregatorApi.Wire(c.Status), c.LastSuccessAt, c.LastError, c.ReconnectReason, c.RefreshTokenExpiresAt))];
    }

    public static async Task<RecordSummaryView> SummaryAsync(this AggregatorApi api, string session, Guid patientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var record = await api.CallAsync(session, client => client.V1.Patients[patientId].Record.GetAsync(cancellationToken: cancellationToken));
        var demographics = record!.Demographics?.DemographicsItem;
        return new RecordSummaryView(
            record.RecordVersion ?? 0,
            record.UpdatedAt,
            demographics?.Names?.FirstOrDefault(),
            demographics?.BirthDate,
            [.. (record.Categories ?? []).Select(c => new CategoryCountView(c.Category!, c.Count ?? 0))],
            [.. (record.Sources ?? []).Select(s => s.Provider!).Distinct(StringComparer.Ordinal)]);
    }

    public static async Task<ItemPageView> ItemsAsync(this AggregatorApi api, string session, Guid patientId, string category, ItemFilter filter, string? cursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(filter);
        var page = await api.CallAsync(session, client => client.V1.Patients[patientId].Record[category].GetAsync(request =>
        {
            request.QueryParameters.Limit = 50;
            request.QueryParameters.Cursor = cursor;
            request.QueryParameters.From = filter.From is { } from ? new Date(from.Year, from.Month, from.Day) : null;
            request.QueryParameters.To = filter.To is { } to ? new Date(to.Year, to.Month, to.Day) : null;
            request.QueryParameters.Provider = filter.Provider;
            request.QueryParameters.Q = string.IsNullOrWhiteSpace(filter.Text) ? null : filter.Text;
        }, cancellationToken));
        return new ItemPageView([.. (page?.Items ?? []).Select(ToView)], page?.NextCursor);
    }

    public static async Task<ItemPageView> TimelineAsync(this AggregatorApi api, string session, Guid patientId, string? text, string? cursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var page = await api.CallAsync(session, client => client.V1.Patients[patientId].Timeline.GetAsync(request =>
        {
            request.QueryParameters.Limit = 50;
            request.QueryParameters.Cursor = cursor;
            request.QueryParameters.Q = string.IsNullOrWhiteSpace(text) ? null : text;
        }, cancellationToken));
        return new ItemPageView([.. (page?.Items ?? []).Select(ToView)], page?.NextCursor);
    }

    public static async Task<ItemView> ItemAsync(this AggregatorApi api, string session, Guid patientId, Guid itemId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var item = await api.CallAsync(session, client => client.V1.Patients[patientId].Record.Items[itemId].GetAsync(
            request => request.QueryParameters.Include = "raw", cancellationToken));
        return ToView(item!);
    }

    public static async Task<TrendView> TrendAsync(this AggregatorApi api, string session, Guid patientId, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var trend = await api.CallAsync(session, client => client.V1.Patients[patientId].Labs.Trends.GetAsync(request => request.QueryParameters.Code = code, cancellationToken));
        return new TrendView(trend!.Code!, trend.Display, trend.Unit, [.. (trend.Points ?? [])
            .Where(p => p.Effective is not null && p.Value is not null)
            .Select(p => new TrendPointView(p.Effective!.Value, p.Value!.Value, p.Unit,
                p.ReferenceRange?.FirstOrDefault()?.Low, p.ReferenceRange?.FirstOrDefault()?.High, p.Providers ?? []))]);
    }

    public static async Task<IReadOnlyList<AccessView>> AccessAsync(this AggregatorApi api, string session, Guid patientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var page = await api.CallAsync(session, client => client.V1.Patients[patientId].AuditEvents.GetAsync(request => request.QueryParameters.Limit = 100, cancellationToken));
        return [.. (page?.Items ?? []).Select(e => new AccessView(e.OccurredAt!.Value,
            e.ActorType == Models.AuditActorType.Session_token ? "You (this app, signed in as you)" : "The app's service",
            e.Action ?? ""))];
    }

    public static Task DisconnectAsync(this AggregatorApi api, string session, Guid connectionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        return api.CallAsync(session, async client =>
        {
            await client.V1.Connections[connectionId].DeleteAsync(request => request.QueryParameters.Purge = true, cancellationToken);
            return true;
        });
    }

    /// <summary>A hosted Connect session for the patient (to connect more, or with <paramref name="connectionId"/> to reconnect one).</summary>
    public static async Task<(Guid Id, Uri Url)> LinkSessionAsync(this AggregatorApi api, string session, Guid patientId, Uri returnUrl, Guid? connectionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(returnUrl);
        var created = await api.CallAsync(session, client => client.V1.Patients[patientId].LinkSessions.PostAsync(
            new Models.CreateLinkSessionRequest { ReturnUrl = returnUrl.AbsoluteUri, ConnectionId = connectionId }, cancellationToken: cancellationToken));
        return (created!.Id!.Value, new Uri(created.Url!));
    }

    /// <summary>The tenant's own step: redeem the result code of a session this browser started (with the app's key).</summary>
    public static async Task<int> ExchangeAsync(this AggregatorApi api, string tenantKey, Guid linkSessionId, string resultCode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var exchanged = await api.CallAsync(tenantKey, client => client.V1.LinkSessions[linkSessionId].Exchange.PostAsync(
            new Models.ExchangeRequest { ResultCode = resultCode }, cancellationToken: cancellationToken));
        return exchanged?.Connections?.Count ?? 0;
    }

    private static ItemView ToView(Models.RecordItem wrapper)
    {
        // The item is one of the category shapes (a oneOf keyed by category): read the fields every shape has from whichever it is.
        var shape = ItemShapes.Active(wrapper);
        var category = ItemShapes.Read<string>(shape, "Category") ?? "";
        var sources = ItemShapes.Read<List<Models.RecordItemSource>>(shape, "Sources") ?? [];
        var quantity = ItemShapes.Read<Models.ItemValue>(shape, "Value");
        var range = ItemShapes.Read<List<Models.ReferenceRange>>(shape, "ReferenceRange")?.FirstOrDefault();
        var code = ItemShapes.Read<Models.CodedConcept>(shape, "Code");
        return new ItemView(
            ItemShapes.Read<Guid?>(shape, "Id") ?? Guid.Empty,
            category,
            ItemShapes.Read<string>(shape, "Display"),
            ItemShapes.Read<string>(shape, "Effective"),
            ItemShapes.Read<string>(shape, "Status"),
            Describe(quantity),
            ItemShapes.Read<string>(shape, "Interpretation"),
            range is null ? null : $"{range.Low?.ToString(System.Globalization.CultureInfo.InvariantCulture)}–{range.High?.ToString(System.Globalization.CultureInfo.InvariantCulture)} {range.Unit}".Trim(),
            code is null ? null : $"{code.Code} ({code.System})",
            code is null ? null : $"{code.System}|{code.Code}",
            ItemShapes.Read<string>(shape, "MergedBy"),
            [.. sources.Select(s => new SourceView(
                s.ConnectionId ?? Guid.Empty, s.Provider ?? "", s.ResourceType ?? "", s.ResourceId ?? "", s.Shown ?? false, s.Display, s.Status,
                Describe(s.Value), s.Effective, s.Resource is null ? null : FhirJson.Write(s.Resource)))],
            ItemShapes.Read<List<Models.AttachmentSummary>>(shape, "Attachments") is { Count: > 0 });
    }

    private static string? Describe(Models.ItemValue? value) =>
        value?.Value is { } number ? $"{number.ToString(System.Globalization.CultureInfo.InvariantCulture)} {value.Unit}".Trim() : null;

    /// <summary>Reads the one category shape a generated <see cref="Models.RecordItem"/> holds, by property name.</summary>
    private static class ItemShapes
    {
        private static readonly PropertyInfo[] Members = [.. typeof(Models.RecordItem).GetProperties()
            .Where(p => p.PropertyType.Namespace == typeof(Models.RecordItem).Namespace && p.PropertyType.Name.EndsWith("Item", StringComparison.Ordinal))];

        public static object Active(Models.RecordItem wrapper) =>
            Members.Select(m => m.GetValue(wrapper)).FirstOrDefault(v => v is not null) ?? wrapper;

        public static T? Read<T>(object shape, string property) =>
            shape.GetType().GetProperty(property)?.GetValue(shape) is T value ? value : default;
    }
}

/// <summary>A provider's FHIR resource as the item page shows it: indented JSON.</summary>
internal static class FhirJson
{
    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Write(Models.FhirResource resource)
    {
        using var writer = new Microsoft.Kiota.Serialization.Json.JsonSerializationWriter();
        writer.WriteObjectValue(null, resource);
        using var content = writer.GetSerializedContent();
        using var document = System.Text.Json.JsonDocument.Parse(content);
        return System.Text.Json.JsonSerializer.Serialize(document.RootElement, Indented);
    }
}
