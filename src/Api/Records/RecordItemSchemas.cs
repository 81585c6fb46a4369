using System.Text.Json.Serialization;

namespace Aggregator.Api.Records.Schemas;

// The shapes of the record's items, for the OpenAPI document (and the clients generated from it). The
// record builder writes each item's JSON once, at rebuild time (src/Domain/Records); these types say
// what that JSON holds, per category. RecordSchemaTests checks real answers against them.

/// <summary>A coded concept: the code system's url, the code, and the display the source gave.</summary>
public sealed record CodedConcept(string System, string Code, string? Display);

/// <summary>A measured value as the source reported it.</summary>
public sealed record MeasuredQuantity(double Value, string? Unit);

/// <summary>A value in the canonical UCUM unit it was compared in (what the merge and the trends use).</summary>
public sealed record NormalizedQuantity(decimal Value, string Unit);

/// <summary>A reference range as the source gave it.</summary>
public sealed record ReferenceRange(decimal? Low, decimal? High, string? Unit, string? Text);

/// <summary>One component of a multi-part observation (e.g. the systolic part of a blood pressure).</summary>
public sealed record ObservationComponent(CodedConcept? Code, string? Display, decimal? Value, string? Unit);

/// <summary>An attachment of a document or report; its content is at the document content endpoint.</summary>
public sealed record AttachmentSummary(string? ContentType, string? Title, string? Url, bool Inline, decimal? Size);

/// <summary>
/// One source of a merged item: which connection and resource state the fact, and what that source says (so that
/// disagreement stays visible). <c>value</c> is a quantity for measurements, else text.
/// </summary>
public sealed record RecordItemSource(
    Guid ConnectionId,
    string Provider,
    string ResourceType,
    string ResourceId,
    DateTimeOffset? LastUpdated,
    bool Shown,
    string? Display,
    string? Status,
    ItemValue? Value,
    string? Effective)
{
    /// <summary>With <c>include=raw</c> on the item endpoint: the provider's resource as stored (R4).</summary>
    public Fhir.FhirResource? Resource { get; init; }

    /// <summary>With <c>include=raw</c>: the resource exactly as the provider sent it, where it had to be converted (DSTU2).</summary>
    public Fhir.FhirResource? Original { get; init; }
}

/// <summary>
/// An observation's value: <c>{ "value", "unit" }</c> for a quantity, or a string for a coded or text answer. (Typed
/// here as a quantity; a string answer comes as a plain JSON string.)
/// </summary>
public sealed record ItemValue(decimal Value, string? Unit);

/// <summary>What every item of the merged record carries, whatever its category.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "category", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FallBackToBaseType)]
[JsonDerivedType(typeof(LabItem), "labs")]
[JsonDerivedType(typeof(VitalItem), "vitals")]
[JsonDerivedType(typeof(SocialHistoryItem), "social-history")]
[JsonDerivedType(typeof(SurveyItem), "surveys")]
[JsonDerivedType(typeof(ExamItem), "exams")]
[JsonDerivedType(typeof(OtherObservationItem), "observations")]
[JsonDerivedType(typeof(ConditionItem), "conditions")]
[JsonDerivedType(typeof(MedicationItem), "medications")]
[JsonDerivedType(typeof(AllergyItem), "allergies")]
[JsonDerivedType(typeof(ImmunizationItem), "immunizations")]
[JsonDerivedType(typeof(ProcedureItem), "procedures")]
[JsonDerivedType(typeof(EncounterItem), "encounters")]
[JsonDerivedType(typeof(DiagnosticReportItem), "diagnostic-reports")]
[JsonDerivedType(typeof(DocumentItem), "documents")]
[JsonDerivedType(typeof(CarePlanItem), "care-plans")]
[JsonDerivedType(typeof(GoalItem), "goals")]
[JsonDerivedType(typeof(DeviceItem), "devices")]
[JsonDerivedType(typeof(CareTeamItem), "care-team")]
[JsonDerivedType(typeof(InsuranceCoverageItem), "coverage")]
[JsonDerivedType(typeof(ClaimItem), "claims")]
[JsonDerivedType(typeof(ImagingStudyItem), "imaging-studies")]
[JsonDerivedType(typeof(DemographicsItem), "demographics")]
public abstract record RecordItem
{
    /// <summary>The item's id: stable while the fact stays in the record.</summary>
    public Guid Id { get; init; }

    /// <summary>The FHIR type of the source the item shows (the most recently updated one).</summary>
    public string ResourceType { get; init; } = "";

    /// <summary>The code a reader cares about first (LOINC, SNOMED CT, RxNorm, CVX, ICD-10-CM, then any).</summary>
    public CodedConcept? Code { get; init; }

    /// <summary>Every code the shown source gave.</summary>
    public IReadOnlyList<CodedConcept>? Codes { get; init; }

    public string? Display { get; init; }

    public string? Status { get; init; }

    /// <summary>When the fact happened: an ISO 8601 instant (UTC) where the source gave a time, else a date (<c>yyyy-MM-dd</c>).</summary>
    public string? Effective { get; init; }

    /// <summary>Entered in error or refuted: listed only with <c>includeRetracted=true</c>.</summary>
    public bool Retracted { get; init; }

    /// <summary>The rule that joined several sources into this item (<c>identifier</c>, <c>code+time</c>, <c>code+time+value</c>, <c>display+time</c>, <c>same-patient</c>), or null for a single source.</summary>
    public string? MergedBy { get; init; }

    public IReadOnlyList<RecordItemSource> Sources { get; init; } = [];
}

/// <summary>An Observation of any category: its value, normalised value, components, reference ranges and interpretation.</summary>
public abstract record ObservationItem : RecordItem
{
    /// <summary>A quantity <c>{ value, unit }</c>, or text (a coded or string answer).</summary>
    public ItemValue? Value { get; init; }

    public NormalizedQuantity? Normalized { get; init; }

    public IReadOnlyList<ObservationComponent>? Components { get; init; }

    public IReadOnlyList<ReferenceRange>? ReferenceRange { get; init; }

    public string? Interpretation { get; init; }
}

/// <summary>A laboratory result.</summary>
public sealed record LabItem : ObservationItem;

/// <summary>A vital sign (blood pressure, weight, heart rate, …).</summary>
public sealed record VitalItem : ObservationItem;

/// <summary>A social-history observation (smoking status, …).</summary>
public sealed record SocialHistoryItem : ObservationItem;

/// <summary>A survey or questionnaire score.</summary>
public sealed record SurveyItem : ObservationItem;

/// <summary>An exam finding.</summary>
public sealed record ExamItem : ObservationItem;

/// <summary>An observation of no category above.</summary>
public sealed record OtherObservationItem : ObservationItem;

/// <summary>A condition (problem or diagnosis).</summary>
public sealed record ConditionItem : RecordItem
{
    public string? ClinicalStatus { get; init; }

    public string? VerificationStatus { get; init; }

    public string? Onset { get; init; }

    public string? Abatement { get; init; }

    public string? Recorded { get; init; }
}

/// <summary>A medication (request, statement, dispense or administration).</summary>
public sealed record MedicationItem : RecordItem
{
    public string? Intent { get; init; }

    public string? AuthoredOn { get; init; }

    /// <summary>The dosage as text.</summary>
    public string? Dose { get; init; }
}

/// <summary>An allergy or intolerance.</summary>
public sealed record AllergyItem : RecordItem
{
    public string? ClinicalStatus { get; init; }

    public string? VerificationStatus { get; init; }

    public string? Criticality { get; init; }

    public IReadOnlyList<string?>? Reactions { get; init; }
}

/// <summary>An immunization.</summary>
public sealed record ImmunizationItem : RecordItem
{
    public bool? PrimarySource { get; init; }

    public string? LotNumber { get; init; }
}

/// <summary>A procedure.</summary>
public sealed record ProcedureItem : RecordItem;

/// <summary>A visit.</summary>
public sealed record EncounterItem : RecordItem
{
    /// <summary>The encounter class code (ambulatory, emergency, inpatient, …).</summary>
    public string? Class { get; init; }

    public string? Start { get; init; }

    public string? End { get; init; }

    public string? Reason { get; init; }
}

/// <summary>A diagnostic report (a lab panel, an imaging report, …).</summary>
public sealed record DiagnosticReportItem : RecordItem
{
    public string? Issued { get; init; }

    public string? Conclusion { get; init; }

    /// <summary>How many results the report groups.</summary>
    public int? Results { get; init; }

    public IReadOnlyList<AttachmentSummary>? PresentedForm { get; init; }
}

/// <summary>A clinical document (a note, a discharge summary, …); its content is at the document content endpoint.</summary>
public sealed record DocumentItem : RecordItem
{
    public string? Description { get; init; }

    public IReadOnlyList<AttachmentSummary>? Attachments { get; init; }
}

/// <summary>A care plan.</summary>
public sealed record CarePlanItem : RecordItem;

/// <summary>A goal.</summary>
public sealed record GoalItem : RecordItem;

/// <summary>A device.</summary>
public sealed record DeviceItem : RecordItem;

/// <summary>A care team.</summary>
public sealed record CareTeamItem : RecordItem;

/// <summary>An insurance coverage.</summary>
public sealed record InsuranceCoverageItem : RecordItem;

/// <summary>A claim or explanation of benefit.</summary>
public sealed record ClaimItem : RecordItem;

/// <summary>An imaging study.</summary>
public sealed record ImagingStudyItem : RecordItem;

/// <summary>Who the patient is, as the providers describe them (one item merged from every source).</summary>
public sealed record DemographicsItem : RecordItem
{
    public IReadOnlyList<string?>? Names { get; init; }

    public string? BirthDate { get; init; }

    public string? Gender { get; init; }

    public IReadOnlyList<string?>? Addresses { get; init; }

    public IReadOnlyList<string?>? Phones { get; init; }

    public IReadOnlyList<string?>? Identifiers { get; init; }

    /// <summary>Where the sources disagree on a single-valued field (<c>birthDate</c>, <c>gender</c>): every value they gave.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Conflicts { get; init; }
}

/// <summary>One page of a category or of the timeline, newest first.</summary>
public sealed record RecordItemPage(IReadOnlyList<RecordItem> Items, string? NextCursor);

/// <summary>One change of the record: the item as it now is, or <c>deleted</c> when the fact left the record.</summary>
public sealed record RecordChange(Guid Id, string Category, long Version, bool Deleted, RecordItem? Item);

/// <summary>Changes since a cursor, oldest first. Keep <c>nextCursor</c> to ask again later; <c>hasMore</c> says another page is waiting now.</summary>
public sealed record RecordChangePage(IReadOnlyList<RecordChange> Changes, string NextCursor, bool HasMore);

/// <summary>One item with every source, each with the provider's resource as stored (<c>include=raw</c>).</summary>
public sealed record RecordItemDetail(RecordItem Item);
