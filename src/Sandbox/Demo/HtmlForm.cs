using System.Net;
using System.Text.RegularExpressions;

namespace Aggregator.Sandbox.Demo;

/// <summary>
/// The first form of an HTML page, read the way a browser without JavaScript submits it: hidden and text
/// inputs, checkboxes (ticked or not) and submit buttons.
/// </summary>
public sealed partial class HtmlForm
{
    private HtmlForm(string action, string method, List<KeyValuePair<string, string>> fields, List<Checkbox> checkboxes, List<KeyValuePair<string, string>> buttons)
    {
        Action = action;
        Method = method;
        Fields = fields;
        Checkboxes = checkboxes;
        Buttons = buttons;
    }

    public string Action { get; }

    public string Method { get; }

    public List<KeyValuePair<string, string>> Fields { get; }

    public List<Checkbox> Checkboxes { get; }

    public List<KeyValuePair<string, string>> Buttons { get; }

    public static HtmlForm Parse(string html)
    {
        var form = FormPattern().Match(html);
        if (!form.Success)
        {
            throw new InvalidOperationException("The page has no form: " + html);
        }

        var attributes = Attributes(form.Groups[1].Value);
        var fields = new List<KeyValuePair<string, string>>();
        var checkboxes = new List<Checkbox>();
        foreach (Match input in InputPattern().Matches(form.Groups[2].Value))
        {
            var a = Attributes(input.Groups[1].Value);
            var name = a.GetValueOrDefault("name");
            if (name is null)
            {
                continue;
            }

            var value = a.GetValueOrDefault("value") ?? "";
            if (a.GetValueOrDefault("type") == "checkbox")
            {
                checkboxes.Add(new Checkbox(name, value, a.ContainsKey("checked")));
            }
            else
            {
                fields.Add(new(name, value));
            }
        }

        var buttons = ButtonPattern().Matches(form.Groups[2].Value)
            .Select(b => Attributes(b.Groups[1].Value))
            .Where(a => a.ContainsKey("name"))
            .Select(a => new KeyValuePair<string, string>(a["name"], a.GetValueOrDefault("value") ?? ""))
            .ToList();
        return new HtmlForm(attributes.GetValueOrDefault("action") ?? "", attributes.GetValueOrDefault("method") ?? "get", fields, checkboxes, buttons);
    }

    /// <summary>What the browser posts: fields (with the given values filled in), ticked boxes, the pressed button.</summary>
    public FormUrlEncodedContent Submit(IReadOnlyDictionary<string, string>? values = null, Func<Checkbox, bool>? tick = null, string? button = null)
    {
        var posted = Fields.Select(f => values is not null && values.TryGetValue(f.Key, out var v) ? new KeyValuePair<string, string>(f.Key, v) : f).ToList();
        posted.AddRange(Checkboxes.Where(c => tick?.Invoke(c) ?? c.Checked).Select(c => new KeyValuePair<string, string>(c.Name, c.Value)));
        if (button is not null)
        {
            posted.Add(Buttons.Single(b => b.Value == button));
        }

        return new FormUrlEncodedContent(posted);
    }

    private static Dictionary<string, string> Attributes(string text) =>
        AttributePattern().Matches(text)
            .GroupBy(m => m.Groups[1].Value.ToLowerInvariant())
            .ToDictionary(g => g.Key, g => WebUtility.HtmlDecode(g.First().Groups[3].Success ? g.First().Groups[3].Value : ""));

    [GeneratedRegex(@"<form\b([^>]*)>(.*?)</form>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex FormPattern();

    [GeneratedRegex(@"<input\b([^>]*)>", RegexOptions.IgnoreCase)]
    private static partial Regex InputPattern();

    [GeneratedRegex(@"<button\b([^>]*)>", RegexOptions.IgnoreCase)]
    private static partial Regex ButtonPattern();

    [GeneratedRegex(@"([a-zA-Z_:-]+)(=""([^""]*)"")?")]
    private static partial Regex AttributePattern();

    public sealed record Checkbox(string Name, string Value, bool Checked);
}
