using Aggregator.Api.Fhir;
using Aggregator.Api.Records;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>
/// Where a schema says more than its CLR type can: the record's items as one <c>oneOf</c> keyed by <c>category</c>,
/// an observation's value (a quantity or text), the record summary's demographics (an item), and FHIR resources
/// (every element FHIR defines, beyond the ones named).
/// </summary>
internal static class OpenApiSchemas
{
    /// <summary>During generation: polymorphic types become <c>oneOf</c> (exactly one category shape applies to an item).</summary>
    public static Task Apply(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Discriminator is not null && schema.AnyOf is { Count: > 0 } shapes && schema.OneOf is null or { Count: 0 })
        {
            schema.OneOf = shapes;
            schema.AnyOf = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>After generation, on the components.</summary>
    public static Task Complete(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schemas = document.Components?.Schemas;
        if (schemas is null)
        {
            return Task.CompletedTask;
        }

        if (schemas.TryGetValue(nameof(Records.Schemas.ItemValue), out var value) && value is OpenApiSchema itemValue)
        {
            itemValue.Type = null;
            itemValue.Properties = null;
            itemValue.Required = null;
            itemValue.Description = "A quantity `{ value, unit }` for a measurement, or text for a coded or string answer.";
            itemValue.OneOf = [new OpenApiSchemaReference(nameof(Records.Schemas.MeasuredQuantity), document), new OpenApiSchema { Type = JsonSchemaType.String }];
        }

        if (schemas.TryGetValue(nameof(RecordSummary), out var summary) && summary is OpenApiSchema { Properties: { } properties })
        {
            properties["demographics"] = new OpenApiSchema
            {
                Description = "The patient's demographics item (category `demographics`), merged from every source; null before the first sync.",
                OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, new OpenApiSchemaReference(nameof(Records.Schemas.RecordItem), document)],
            };
            schemas.Remove("JsonElement");
        }

        foreach (var fhir in new[] { nameof(FhirResource), nameof(FhirBundle), nameof(FhirCapabilityStatement) })
        {
            if (schemas.TryGetValue(fhir, out var resource) && resource is OpenApiSchema open)
            {
                open.AdditionalProperties = new OpenApiSchema { Description = "Any other element, as FHIR R4 defines it for this resource type." };
            }
        }

        CompleteDiscriminator(schemas, document);
        foreach (var schema in schemas.Values.OfType<OpenApiSchema>().Where(s => s.Enum is { Count: > 0 } && s.Type is null))
        {
            // The generator writes our string enums without their type.
            schema.Type = JsonSchemaType.String;
        }

        // Problems are described once, as Problem; the framework's own shape is not used.
        schemas.Remove("ProblemDetails");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The record item's <c>oneOf</c>: each category shape requires its <c>category</c> (so exactly one applies), and the
    /// discriminator maps each category to the component that has it (the generator names them differently).
    /// </summary>
    private static void CompleteDiscriminator(IDictionary<string, IOpenApiSchema> schemas, OpenApiDocument document)
    {
        if (!schemas.TryGetValue(nameof(Records.Schemas.RecordItem), out var found) || found is not OpenApiSchema { Discriminator: { } discriminator, OneOf: { } shapes } item)
        {
            return;
        }

        // The shapes say everything; the base repeats nothing (validators then judge an item by its one shape).
        item.Type = null;
        item.Required = null;
        item.Properties = null;
        item.Description = "One item of the merged record. `category` (plural kebab-case) says which shape it has; items of categories not listed "
            + "(other resource types, by their plural name) carry the fields every shape has.";
        var mapping = new Dictionary<string, OpenApiSchemaReference>(StringComparer.Ordinal);
        foreach (var shape in shapes.OfType<OpenApiSchemaReference>())
        {
            var name = shape.Reference.Id!;
            if (schemas.TryGetValue(name, out var target) && target is OpenApiSchema { Properties: { } properties } concrete
                && properties.TryGetValue("category", out var category) && category is OpenApiSchema { Enum: [var value] })
            {
                concrete.Type = JsonSchemaType.Object;
                concrete.Required ??= new HashSet<string>();
                concrete.Required.Add("category");
                // A constant, not a one-value enum: client generators (Kiota) otherwise make an enum type of it and try
                // to read the whole item as that enum before they reach later categories of the discriminator.
                var constant = value.GetValue<string>();
                properties["category"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = constant, Description = category.Description };
                mapping[constant] = new OpenApiSchemaReference(name, document);
            }
        }

        discriminator.Mapping = mapping;
    }
}
