using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// DiagnosticReport: category and performer become lists, request → basedOn, image → media,
/// codedDiagnosis → conclusionCode; effective[x], issued, subject and result carry over.
/// </summary>
internal sealed class DiagnosticReportMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses =
        ["registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"];

    public string Dstu2Type => "DiagnosticReport";

    public string R4Type => "DiagnosticReport";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .ConvertAll(source, "request", References.Reference, "basedOn")
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : "unknown")
            .ConvertAll(source, "category", Codes.Concept)
            .ConvertOne(source, "code", Codes.Concept)
            .RequireElement("code")
            .ConvertOne(source, "subject", References.Reference)
            .ConvertOne(source, "encounter", References.Reference)
            .CopyChoice(source, "effective", ["DateTime", "Period"])
            .CopyText(source, "issued")
            .ConvertAll(source, "performer", References.Reference)
            .ConvertAll(source, "specimen", References.Reference)
            .ConvertAll(source, "result", References.Reference)
            .ConvertAll(source, "imagingStudy", References.Reference)
            .ConvertAll(source, "image", Media, "media")
            .CopyText(source, "conclusion")
            .ConvertAll(source, "codedDiagnosis", Codes.Concept, "conclusionCode")
            .ConvertAll(source, "presentedForm", Documents.Attachment);

    private static JsonObject? Media(JsonObject source) =>
        source.Child("link") is not { } link
            ? null
            : ElementBase.FromBackbone(source)
                .CopyText(source, "comment")
                .Put("link", References.Reference(link));
}
