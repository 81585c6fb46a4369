using System.Text;
using System.Text.Json.Nodes;
using static Aggregator.Sandbox.Generator.FhirJson;

namespace Aggregator.Sandbox.Generator;

/// <summary>Writes facts as FHIR R4 (US Core shaped) resources, the way one site records them.</summary>
public static class R4Renderer
{
    private const string Terminology = "http://terminology.hl7.org/CodeSystem/";

    public static JsonObject Patient(SiteRendering at)
    {
        var person = at.Person.Demographics;
        return new JsonObject
        {
            ["resourceType"] = "Patient",
            ["id"] = at.PatientId,
            ["meta"] = Meta(LastRecord(at)),
            ["identifier"] = new JsonArray(new JsonObject
            {
                ["use"] = "usual",
                ["type"] = Concept(Coding(Terminology + "v2-0203", "MR", "Medical Record Number"), "MRN"),
                ["system"] = $"https://sandbox.aggregator.example/{at.Site.Persona}/mrn",
                ["value"] = at.Mrn,
            }),
            ["active"] = true,
            ["name"] = new JsonArray(new JsonObject { ["use"] = "official", ["family"] = person.Family, ["given"] = new JsonArray(person.Given) }),
            ["telecom"] = new JsonArray(new JsonObject { ["system"] = "phone", ["value"] = person.Phone, ["use"] = "home" }),
            ["gender"] = person.Gender == Gender.Female ? "female" : "male",
            ["birthDate"] = Date(person.BirthDate),
            ["address"] = new JsonArray(new JsonObject
            {
                ["use"] = "home",
                ["line"] = new JsonArray(person.Street),
                ["city"] = person.City,
                ["state"] = person.State,
                ["postalCode"] = person.PostalCode,
                ["country"] = "US",
            }),
            ["maritalStatus"] = Concept(Coding(Terminology + "v3-MaritalStatus", person.MaritalStatus, VisitTypes.MaritalStatusDisplay(person.MaritalStatus))),
            ["communication"] = new JsonArray(new JsonObject
            {
                ["language"] = Concept(Coding("urn:ietf:bcp:47", "en-US", "English (United States)")),
                ["preferred"] = true,
            }),
            ["generalPractitioner"] = new JsonArray(Reference("Practitioner", at.PractitionerId, at.PractitionerName)),
            ["managingOrganization"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName),
        };
    }

    public static JsonObject Organization(SiteConventions site, string idPrefix) => new()
    {
        ["resourceType"] = "Organization",
        ["id"] = SiteRendering.OrganizationIdOf(site, idPrefix),
        ["meta"] = Meta(SiteRecords.Established),
        ["active"] = true,
        ["type"] = new JsonArray(Concept(Coding(Terminology + "organization-type", "prov", "Healthcare Provider"))),
        ["name"] = site.OrganizationName,
        ["telecom"] = new JsonArray(new JsonObject { ["system"] = "phone", ["value"] = site.OrganizationPhone, ["use"] = "work" }),
        ["address"] = new JsonArray(new JsonObject { ["line"] = new JsonArray("800 Medical Center Drive"), ["city"] = "Springfield", ["state"] = "IL", ["postalCode"] = "62702", ["country"] = "US" }),
    };

    public static JsonObject Practitioner(SiteConventions site, string idPrefix) => new()
    {
        ["resourceType"] = "Practitioner",
        ["id"] = SiteRendering.PractitionerIdOf(site, idPrefix),
        ["meta"] = Meta(SiteRecords.Established),
        ["identifier"] = new JsonArray(new JsonObject { ["system"] = "http://hl7.org/fhir/sid/us-npi", ["value"] = site.ClinicianNpi }),
        ["active"] = true,
        ["name"] = new JsonArray(new JsonObject
        {
            ["family"] = site.ClinicianFamily,
            ["given"] = new JsonArray(site.ClinicianGiven),
            ["prefix"] = new JsonArray("Dr."),
        }),
    };

    /// <summary>The resources one site writes for a fact: the record itself and, for a document kept apart, its Binary.</summary>
    public static IEnumerable<JsonObject> Render(ClinicalFact fact, SiteRendering at)
    {
        var resource = fact switch
        {
            EncounterFact encounter => Encounter(encounter, at),
            ConditionFact condition => Condition(condition, at),
            MedicationFact medication => MedicationRequest(medication, at),
            AllergyFact allergy => AllergyIntolerance(allergy, at),
            ObservationFact observation => Observation(observation, at),
            ImmunizationFact immunization => Immunization(immunization, at),
            ProcedureFact procedure => Procedure(procedure, at),
            DiagnosticReportFact report => DiagnosticReport(report, at),
            DocumentFact document => DocumentReference(document, at),
            CarePlanFact plan => CarePlan(plan, at),
            GoalFact goal => Goal(goal, at),
            _ => throw new InvalidOperationException($"No R4 rendering for {fact.GetType().Name}."),
        };
        yield return resource;
        if (fact is DocumentFact { Delivery: DocumentDelivery.Binary } binary)
        {
            yield return new JsonObject
            {
                ["resourceType"] = "Binary",
                ["id"] = at.BinaryIdOf(fact.FactId),
                ["meta"] = Meta(fact.Recorded),
                ["contentType"] = "text/plain",
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(binary.Text)),
            };
        }
    }

    private static JsonObject Start(string type, ClinicalFact fact, SiteRendering at) => new()
    {
        ["resourceType"] = type,
        ["id"] = at.IdOf(fact.FactId),
        ["meta"] = Meta(fact.Recorded),
    };

    private static void Link(JsonObject resource, ClinicalFact fact, SiteRendering at, string patientField = "subject")
    {
        resource[patientField] = Reference("Patient", at.PatientId, at.PatientName);
        if (at.EncounterIdOf(fact) is { } encounter)
        {
            resource["encounter"] = Reference("Encounter", encounter);
        }
    }

    private static JsonObject Encounter(EncounterFact fact, SiteRendering at)
    {
        var (snomed, cpt, text, encounterClass) = VisitTypes.Of(fact.Kind, at.Age(fact.Start));
        var resource = Start("Encounter", fact, at);
        resource["status"] = "finished";
        resource["class"] = encounterClass == EncounterClass.Emergency
            ? Coding(Terminology + "v3-ActCode", "EMER", "emergency")
            : Coding(Terminology + "v3-ActCode", "AMB", "ambulatory");
        resource["type"] = new JsonArray(Concept(text, cpt is null ? [snomed] : [snomed, cpt]));
        resource["subject"] = Reference("Patient", at.PatientId, at.PatientName);
        resource["participant"] = new JsonArray(new JsonObject
        {
            ["type"] = new JsonArray(Concept(Coding(Terminology + "v3-ParticipationType", "PPRF", "primary performer"))),
            ["individual"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName),
        });
        resource["period"] = Period(fact.Start, fact.End);
        if (fact.ReasonFactId is { } reason && at.Holds(reason))
        {
            resource["reasonReference"] = References("Condition", [at.IdOf(reason)]);
        }

        resource["serviceProvider"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName);
        return resource;
    }

    private static JsonObject Condition(ConditionFact fact, SiteRendering at)
    {
        var resource = Start("Condition", fact, at);
        resource["clinicalStatus"] = Concept(Coding(Terminology + "condition-clinical", fact.Abatement is null ? "active" : "resolved"));
        resource["verificationStatus"] = Concept(Coding(Terminology + "condition-ver-status", "confirmed"));
        resource["category"] = new JsonArray(fact.Chronic
            ? Concept(Coding(Terminology + "condition-category", "problem-list-item", "Problem List Item"))
            : Concept(Coding(Terminology + "condition-category", "encounter-diagnosis", "Encounter Diagnosis")));
        resource["code"] = Concept(fact.Condition.Text, ConditionCodes(fact.Condition, at.Site));
        Link(resource, fact, at);
        resource["onsetDateTime"] = Date(fact.Onset);
        if (fact.Abatement is { } abatement)
        {
            resource["abatementDateTime"] = Date(abatement);
        }

        resource["recordedDate"] = Instant(fact.RecordedAt);
        return resource;
    }

    internal static IEnumerable<ClinicalCode> ConditionCodes(ConditionDefinition condition, SiteConventions site)
    {
        if (site.CodesConditionsInSnomed)
        {
            yield return condition.Snomed;
        }

        if (site.CodesConditionsInIcd10Cm)
        {
            yield return condition.Icd10Cm;
        }
    }

    private static JsonObject MedicationRequest(MedicationFact fact, SiteRendering at)
    {
        var medicine = fact.Medication;
        var resource = Start("MedicationRequest", fact, at);
        resource["status"] = fact.Status switch { MedicationStatus.Active => "active", MedicationStatus.Stopped => "stopped", _ => "completed" };
        resource["intent"] = "order";
        resource["category"] = new JsonArray(Concept(Coding(Terminology + "medicationrequest-category",
            at.Site.Site == CareSite.Hospital ? "discharge" : "community", at.Site.Site == CareSite.Hospital ? "Discharge" : "Community")));
        resource["medicationCodeableConcept"] = Concept(medicine.RxNorm.Display, medicine.RxNorm);
        Link(resource, fact, at);
        resource["authoredOn"] = Instant(fact.Authored);
        resource["requester"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        if (fact.ReasonFactId is { } reason && at.Holds(reason))
        {
            resource["reasonReference"] = References("Condition", [at.IdOf(reason)]);
        }

        var dosage = new JsonObject { ["sequence"] = 1, ["text"] = medicine.Instructions };
        if (medicine.AsNeeded)
        {
            dosage["asNeededBoolean"] = true;
        }

        dosage["timing"] = new JsonObject { ["repeat"] = new JsonObject { ["frequency"] = medicine.TimesPerDay, ["period"] = 1, ["periodUnit"] = "d" } };
        dosage["route"] = medicine.DoseForm.StartsWith('{')
            ? Concept(Coding(CodeSystems.Snomed, "447694001", "Respiratory tract route (qualifier value)"))
            : Concept(Coding(CodeSystems.Snomed, "26643006", "Oral route (qualifier value)"));
        dosage["doseAndRate"] = new JsonArray(new JsonObject
        {
            ["type"] = Concept(Coding(Terminology + "dose-rate-type", "ordered", "Ordered")),
            ["doseQuantity"] = DoseQuantity(medicine),
        });
        resource["dosageInstruction"] = new JsonArray(dosage);
        return resource;
    }

    internal static JsonObject DoseQuantity(MedicationDefinition medicine) => medicine.DoseForm.StartsWith('{')
        ? Quantity(medicine.Dose, medicine.DoseUnit, CodeSystems.Ucum, medicine.DoseForm)
        : Quantity(medicine.Dose, medicine.DoseUnit, Terminology + "v3-orderableDrugForm", medicine.DoseForm);

    private static JsonObject AllergyIntolerance(AllergyFact fact, SiteRendering at)
    {
        var allergy = fact.Allergy;
        var resource = Start("AllergyIntolerance", fact, at);
        resource["clinicalStatus"] = Concept(Coding(Terminology + "allergyintolerance-clinical", "active", "Active"));
        resource["verificationStatus"] = Concept(Coding(Terminology + "allergyintolerance-verification", "confirmed", "Confirmed"));
        resource["type"] = "allergy";
        resource["category"] = new JsonArray(allergy.Category switch
        {
            AllergyCategory.Food => "food",
            AllergyCategory.Medication => "medication",
            _ => "environment",
        });
        resource["criticality"] = allergy.HighCriticality ? "high" : "low";
        resource["code"] = Concept(allergy.Code.Display, allergy.Code);
        Link(resource, fact, at, "patient");
        resource["recordedDate"] = Instant(fact.RecordedAt);
        resource["reaction"] = new JsonArray(new JsonObject
        {
            ["manifestation"] = new JsonArray(Concept(allergy.Reaction.Display, allergy.Reaction)),
            ["severity"] = allergy.HighCriticality ? "severe" : "mild",
        });
        return resource;
    }

    private static JsonObject Observation(ObservationFact fact, SiteRendering at)
    {
        var test = fact.Test;
        var resource = Start("Observation", fact, at);
        resource["status"] = "final";
        resource["category"] = new JsonArray(test.Kind == ObservationKind.Laboratory
            ? Concept(Coding(Terminology + "observation-category", "laboratory", "Laboratory"))
            : Concept(Coding(Terminology + "observation-category", "vital-signs", "Vital Signs")));
        resource["code"] = Concept(test.Code.Display, test.Code);
        Link(resource, fact, at);
        resource["effectiveDateTime"] = Instant(fact.Effective);
        resource["issued"] = Instant(fact.Issued);
        resource["performer"] = new JsonArray(Reference("Organization", at.OrganizationId, at.Site.OrganizationName));
        if (fact.Value is { } value)
        {
            AddValue(resource, test, value, at.Site);
        }

        if (fact.Components.Count > 0)
        {
            resource["component"] = new JsonArray([.. fact.Components.Select(c =>
            {
                var component = new JsonObject { ["code"] = Concept(c.Test.Code.Display, c.Test.Code) };
                AddValue(component, c.Test, c.Value, at.Site);
                return (JsonNode)component;
            })]);
        }

        return resource;
    }

    private static void AddValue(JsonObject target, ObservationDefinition test, decimal canonical, SiteConventions site)
    {
        var (value, unit, unitText) = InSiteUnit(site, test, canonical);
        target["valueQuantity"] = Quantity(value, unitText, CodeSystems.Ucum, unit);
        if (VisitTypes.Interpretation(test, canonical) is { } flag)
        {
            target["interpretation"] = new JsonArray(Concept(Coding(Terminology + "v3-ObservationInterpretation", flag, VisitTypes.InterpretationDisplay(flag))));
            var range = new JsonObject();
            if (test.Low is { } low)
            {
                var (lowValue, _, _) = InSiteUnit(site, test, low);
                range["low"] = Quantity(lowValue, unitText, CodeSystems.Ucum, unit);
            }

            if (test.High is { } high)
            {
                var (highValue, _, _) = InSiteUnit(site, test, high);
                range["high"] = Quantity(highValue, unitText, CodeSystems.Ucum, unit);
            }

            target["referenceRange"] = new JsonArray(range);
        }
    }

    private static JsonObject Immunization(ImmunizationFact fact, SiteRendering at)
    {
        var resource = Start("Immunization", fact, at);
        resource["status"] = "completed";
        resource["vaccineCode"] = Concept(fact.Vaccine.Cvx.Display, fact.Vaccine.Cvx);
        Link(resource, fact, at, "patient");
        resource["occurrenceDateTime"] = Instant(fact.Given);
        resource["primarySource"] = at.EncounterIdOf(fact) is not null;
        resource["lotNumber"] = fact.LotNumber;
        resource["site"] = Concept(Coding(Terminology + "v3-ActSite", "LA", "left arm"));
        resource["route"] = Concept(Coding(Terminology + "v3-RouteOfAdministration", "IM", "Injection, intramuscular"));
        resource["doseQuantity"] = Quantity(0.5m, "mL", CodeSystems.Ucum, "mL");
        if (at.EncounterIdOf(fact) is not null)
        {
            resource["performer"] = new JsonArray(new JsonObject { ["actor"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName) });
        }

        return resource;
    }

    private static JsonObject Procedure(ProcedureFact fact, SiteRendering at)
    {
        var procedure = fact.Procedure;
        var resource = Start("Procedure", fact, at);
        resource["status"] = "completed";
        resource["code"] = Concept(procedure.Snomed.Display, procedure.Cpt is null ? [procedure.Snomed] : [procedure.Snomed, procedure.Cpt]);
        Link(resource, fact, at);
        resource["performedPeriod"] = Period(fact.Start, fact.End);
        resource["performer"] = new JsonArray(new JsonObject { ["actor"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName) });
        if (fact.ReasonFactId is { } reason && at.Holds(reason))
        {
            resource["reasonReference"] = References("Condition", [at.IdOf(reason)]);
        }

        return resource;
    }

    private static JsonObject DiagnosticReport(DiagnosticReportFact fact, SiteRendering at)
    {
        var resource = Start("DiagnosticReport", fact, at);
        resource["status"] = "final";
        resource["category"] = new JsonArray(Concept(Coding(Terminology + "v2-0074", "LAB", "Laboratory")));
        resource["code"] = Concept(fact.Panel.Code.Display, fact.Panel.Code);
        Link(resource, fact, at);
        resource["effectiveDateTime"] = Instant(fact.Effective);
        resource["issued"] = Instant(fact.Issued);
        resource["performer"] = new JsonArray(Reference("Organization", at.OrganizationId, at.Site.OrganizationName));
        resource["result"] = References("Observation", at.Held(fact.ResultFactIds).Select(at.IdOf));
        return resource;
    }

    private static JsonObject DocumentReference(DocumentFact fact, SiteRendering at)
    {
        var resource = Start("DocumentReference", fact, at);
        resource["status"] = "current";
        resource["docStatus"] = "final";
        resource["type"] = Concept(fact.Type.Display, fact.Type);
        resource["category"] = new JsonArray(Concept(Coding("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")));
        resource["subject"] = Reference("Patient", at.PatientId, at.PatientName);
        resource["date"] = Instant(fact.Date);
        resource["author"] = new JsonArray(Reference("Practitioner", at.PractitionerId, at.PractitionerName));
        resource["custodian"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName);
        resource["description"] = fact.Title;
        var bytes = Encoding.UTF8.GetBytes(fact.Text);
        var attachment = new JsonObject { ["contentType"] = "text/plain", ["language"] = "en-US" };
        if (fact.Delivery == DocumentDelivery.Inline)
        {
            attachment["data"] = Convert.ToBase64String(bytes);
        }
        else
        {
            attachment["url"] = $"Binary/{at.BinaryIdOf(fact.FactId)}";
        }

        attachment["size"] = bytes.Length;
        attachment["title"] = fact.Title;
        attachment["creation"] = Instant(fact.Date);
        resource["content"] = new JsonArray(new JsonObject
        {
            ["attachment"] = attachment,
            ["format"] = Coding("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient"),
        });
        var context = new JsonObject();
        if (at.EncounterIdOf(fact) is { } encounter)
        {
            context["encounter"] = References("Encounter", [encounter]);
        }

        context["period"] = Period(fact.Date);
        resource["context"] = context;
        return resource;
    }

    private static JsonObject CarePlan(CarePlanFact fact, SiteRendering at)
    {
        var plan = fact.Plan;
        var resource = Start("CarePlan", fact, at);
        resource["text"] = Narrative($"{plan.Title}: {string.Join(", ", plan.Activities.Select(a => a.Display))}");
        resource["status"] = "active";
        resource["intent"] = "plan";
        resource["category"] = new JsonArray(
            Concept(Coding("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan", "Assessment and Plan of Treatment")),
            Concept(plan.Title, plan.Code));
        resource["title"] = plan.Title;
        resource["subject"] = Reference("Patient", at.PatientId, at.PatientName);
        if (at.EncounterIdOf(fact) is { } encounter)
        {
            resource["encounter"] = Reference("Encounter", encounter);
        }

        resource["period"] = new JsonObject { ["start"] = Date(fact.Start) };
        resource["created"] = Instant(fact.RecordedAt);
        resource["author"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        resource["addresses"] = References("Condition", at.Held(fact.AddressesFactIds).Select(at.IdOf));
        resource["goal"] = References("Goal", at.Held(fact.GoalFactIds).Select(at.IdOf));
        resource["activity"] = new JsonArray([.. plan.Activities.Select(a => (JsonNode)new JsonObject
        {
            ["detail"] = new JsonObject { ["code"] = Concept(a.Display, a), ["status"] = "in-progress" },
        })]);
        return resource;
    }

    private static JsonObject Goal(GoalFact fact, SiteRendering at)
    {
        var goal = fact.Goal;
        var resource = Start("Goal", fact, at);
        resource["lifecycleStatus"] = "active";
        resource["achievementStatus"] = Concept(Coding(Terminology + "goal-achievement", "in-progress", "In Progress"));
        resource["description"] = new JsonObject { ["text"] = goal.Description };
        resource["subject"] = Reference("Patient", at.PatientId, at.PatientName);
        resource["startDate"] = Date(fact.Start);
        var target = new JsonObject();
        if (goal.Measure is { } measure && goal.TargetHigh is { } high)
        {
            var (value, unit, unitText) = InSiteUnit(at.Site, measure, high);
            target["measure"] = Concept(measure.Code.Display, measure.Code);
            var quantity = Quantity(value, unitText, CodeSystems.Ucum, unit);
            quantity["comparator"] = "<";
            target["detailQuantity"] = quantity;
        }

        target["dueDate"] = Date(fact.Due);
        resource["target"] = new JsonArray(target);
        if (fact.AddressesFactId is { } condition && at.Holds(condition))
        {
            resource["addresses"] = References("Condition", [at.IdOf(condition)]);
        }

        return resource;
    }

    private static DateTimeOffset LastRecord(SiteRendering at) => SiteRecords.LastRecord(at);
}

/// <summary>Dates both renderers give the records that are not facts.</summary>
public static class SiteRecords
{
    /// <summary>When the sites' organization and clinician records were last changed.</summary>
    public static readonly DateTimeOffset Established = new(2019, 1, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A patient record was last touched when the site last recorded a fact of theirs.</summary>
    public static DateTimeOffset LastRecord(SiteRendering at) =>
        at.Person.Facts.Where(f => f.HeldAt(at.Site.Site)).Select(f => f.Recorded).DefaultIfEmpty(Established).Max();
}
