using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Aggregator.Sandbox;

/// <summary>Data-protection keys that live and die with the process (no store configured).</summary>
public sealed class InMemoryXmlRepository : IXmlRepository
{
    private readonly Lock _gate = new();
    private readonly List<XElement> _elements = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (_gate)
        {
            return _elements.Select(e => new XElement(e)).ToList();
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_gate)
        {
            _elements.Add(new XElement(element));
        }
    }
}
