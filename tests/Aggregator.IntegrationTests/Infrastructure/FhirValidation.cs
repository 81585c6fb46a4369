using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>Firely's validator over the R4 core definitions (offline), made once per test run.</summary>
public static class FhirValidation
{
    private static readonly Lazy<Validator> Instance = new(() =>
    {
        var resolver = new CachedResolver(new ZipSource(Path.Combine(AppContext.BaseDirectory, "specification.zip")));
        return new Validator(resolver, LocalTerminologyService.CreateDefaultForCore(resolver, new ValueSetExpanderSettings()));
    });

    private static readonly Lock Gate = new();

    public static OperationOutcome Validate(Resource resource)
    {
        // One validation at a time: the validator's caches are shared.
        lock (Gate)
        {
            return Instance.Value.Validate(resource);
        }
    }

    public static List<OperationOutcome.IssueComponent> Errors(OperationOutcome outcome) =>
        outcome.Issue.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal).ToList();

    public static string Describe(OperationOutcome outcome) =>
        string.Join(Environment.NewLine, Errors(outcome).Take(20).Select(i => $"{i.Severity} {i.Code} at {string.Join(",", i.Expression)}: {i.Details?.Text ?? i.Diagnostics}"));
}
