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
    private const string CommonFields = "RecordItemFields";

    /// <summary>During generation: polymorphic types become <c>oneOf</c> (exactly one category shape applies to an item).</summary>
    public static Task Apply(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Discriminator is not null && schema.AnyOf is { Count: > 0 } shapes && schema.OneOf is null or { Count: 0 })
        {
            schema.OneOf = shapes;
            schema.AnyOf = null;
        }

        if (context.JsonTypeInfo.Type.Name.EndsWith("Request", StringComparison.Ordinal))
        {
            DescribeRequestFields(schema, context.JsonTypeInfo);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A request body's fields as a client must send them. Our request records take every field as nullable so that a
    /// missing one gets a problem answer naming it rather than a binding failure; the generator then lists them all as
    /// required and nullable. An optional field (a parameter with a default) is not required; a required one is not null.
    /// </summary>
    private static void DescribeRequestFields(OpenApiSchema schema, System.Text.Json.Serialization.Metadata.JsonTypeInfo type)
    {
        if (schema.Properties is not { } properties)
        {
            return;
        }

        foreach (var property in type.Properties)
        {
            if (property.AssociatedParameter is { HasDefaultValue: true })
            {
                schema.Required?.Remove(property.Name);
            }
            else if (schema.Required?.Contains(property.Name) == true
                && properties.TryGetValue(property.Name, out var field) && field is OpenApiSchema { Type: { } kind } described
                && kind.HasFlag(JsonSchemaType.Null))
            {
                described.Type = kind & ~JsonSchemaType.Null;
            }
        }

        if (schema.Required is { Count: 0 })
        {
            schema.Required = null;
        }
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

        // Items of a resource type with no shape of its own (service-requests, questionnaire-responses, …) carry the
        // fields every item has: one shape per such type (client generators map one category to one type), each the
        // common fields with its own category.
        var concreteShapes = shapes.OfType<OpenApiSchemaReference>()
            .Select(r => schemas.TryGetValue(r.Reference.Id!, out var target) ? target as OpenApiSchema : null)
            .OfType<OpenApiSchema>().Where(c => c.Properties is not null).ToList();
        var shared = concreteShapes.Select(c => c.Properties!.Keys).Aggregate((a, b) => [.. a.Intersect(b)]);
        schemas[CommonFields] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The fields every item of the record has, whatever its category.",
            Properties = concreteShapes[0].Properties!.Where(p => shared.Contains(p.Key) && p.Key != "category").ToDictionary(p => p.Key, p => p.Value),
        };
        var typeNamed = new List<(string Category, string Schema)>();
        foreach (var (category, resourceType) in Domain.Records.RecordCategory.ByTypeName)
        {
            var name = schemas.ContainsKey(resourceType + "Item") ? resourceType + "RecordItem" : resourceType + "Item";
            schemas[name] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = $"An item from a {resourceType} (no category shape of its own): the fields every item has.",
                AllOf = [new OpenApiSchemaReference(CommonFields, document)],
                Properties = new Dictionary<string, IOpenApiSchema> { ["category"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = category } },
                Required = new HashSet<string> { "category" },
            };
            shapes.Add(new OpenApiSchemaReference(name, document));
            typeNamed.Add((category, name));
        }

        // The shapes say everything; the base repeats nothing (validators then judge an item by its one shape).
        item.Type = null;
        item.Required = null;
        item.Properties = null;
        item.Description = "One item of the merged record. `category` (plural kebab-case) says which shape it has; the categories named after "
            + "a resource type with no shape of its own (e.g. `service-requests`) carry the fields every shape has (`RecordItemFields`).";
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

        foreach (var (category, name) in typeNamed)
        {
            mapping[category] = new OpenApiSchemaReference(name, document);
        }

        discriminator.Mapping = mapping;
    }
}
