using AngleSharp.Xhtml;
using Ganss.Xss;

namespace Aggregator.Domain.Records;

/// <summary>
/// Keeps of a FHIR narrative only what the narrative rules permit (R4 §2.4 Narrative: basic XHTML formatting, no
/// scripts, forms, frames, objects, stylesheets or event attributes), by an allow-list, not a block-list: elements,
/// attributes, CSS properties and URL schemes not listed are removed. URLs are judged after the HTML parser has decoded
/// them, so <c>java&amp;#9;script:</c> is no way around the scheme list. The answer is XHTML.
/// </summary>
public static class NarrativeSanitizer
{
    private static readonly string[] Elements =
    [
        "div", "p", "br", "hr", "span", "a", "img", "b", "i", "u", "em", "strong", "small", "big", "sub", "sup", "tt", "code", "pre",
        "samp", "kbd", "var", "cite", "q", "dfn", "abbr", "acronym", "blockquote", "address", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    ];

    private static readonly string[] Attributes =
    [
        "id", "class", "title", "lang", "dir", "style", "href", "name", "src", "alt", "width", "height", "colspan", "rowspan",
        "span", "align", "valign", "border", "cellpadding", "cellspacing", "summary", "scope", "headers", "abbr", "start", "type", "value", "cite",
    ];

    private static readonly HtmlSanitizer Sanitizer = Create();

    /// <summary>The narrative's markup with only permitted content left, serialised as XHTML.</summary>
    public static string Sanitize(string markup) => Sanitizer.Sanitize(markup, "", XhtmlMarkupFormatter.Instance);

    private static HtmlSanitizer Create()
    {
        var options = new HtmlSanitizerOptions
        {
            AllowedTags = new HashSet<string>(Elements, StringComparer.OrdinalIgnoreCase),
            AllowedAttributes = new HashSet<string>(Attributes, StringComparer.OrdinalIgnoreCase),
            // Links and images to the web, mail, and within the narrative (relative and #fragment URLs have no scheme).
            AllowedSchemes = new HashSet<string>(["http", "https", "mailto"], StringComparer.OrdinalIgnoreCase),
            UriAttributes = new HashSet<string>(["href", "src", "cite"], StringComparer.OrdinalIgnoreCase),
            AllowedCssProperties = new HashSet<string>(
                ["color", "background-color", "font-weight", "font-style", "font-size", "text-align", "text-decoration", "vertical-align",
                 "border", "border-collapse", "padding", "margin", "width", "height", "white-space"],
                StringComparer.OrdinalIgnoreCase),
        };
        return new HtmlSanitizer(options) { KeepChildNodes = false };
    }
}
