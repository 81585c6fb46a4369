// Validates rendered manifests (multi-document YAML, one file per rendering) offline. Each object is checked against
// the schema of its kind (kubernetes-models for Kubernetes' own kinds, @kubernetes-models/keda for KEDA's,
// @kubernetes-models/prometheus-operator for ServiceMonitors; a kind with no schema is an error), and for fields its
// kind does not have (the schemas allow any; TypeScript's excess-property check against the same packages' types finds
// a misspelt `readinesProbe` that the API server would silently drop), then against what the schemas cannot see:
//   - references: every ConfigMap, Secret and key a pod reads, Services, PodDisruptionBudgets and ServiceMonitors that
//     select pods or Services, the ScaledObject's target and TriggerAuthentication, all present in the same rendering
//     (a Secret named with --external is made out of band and only checked for the keys asked of it);
//   - KEDA's postgresql trigger carries a query, a target and its connection;
//   - pods are locked down: runAsNonRoot, seccomp RuntimeDefault, no privilege escalation, ALL capabilities dropped,
//     a read-only root filesystem, requests and limits; long-running containers have readiness and liveness probes.
// Usage: node validate.mjs [--external NAME]... RENDERED.yaml...
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const schemaModules = {
  "keda.sh": (version) => `@kubernetes-models/keda/keda.sh/${version}`,
  "monitoring.coreos.com": (version) => `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`,
};

function moduleFor(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return schemaModules[group]?.(version) ?? `kubernetes-models/${group ? `${group}/${version}` : version}`;
}

async function modelFor(apiVersion, kind) {
  const specifier = moduleFor(apiVersion);
  let module;
  try {
    module = await import(specifier);
  } catch {
    return null;
  }
  return typeof module[kind] === "function" ? module[kind] : null;
}

const args = process.argv.slice(2);
const external = new Set();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--external") external.add(args[++i]);
  else files.push(args[i]);
}

let failures = 0;
let checked = 0;
let typeChecks = 0;
for (const file of files) {
  const errors = [];
  const objects = [];
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (document.errors.length > 0) errors.push(`YAML: ${document.errors.map((e) => e.message).join("; ")}`);
    const object = document.toJS();
    if (object !== null && object !== undefined) objects.push(object);
  }

  for (const object of objects) {
    const name = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
    if (!object.apiVersion || !object.kind || !object.metadata?.name) {
      errors.push(`${name}: apiVersion, kind and metadata.name are required`);
      continue;
    }
    const Model = await modelFor(object.apiVersion, object.kind);
    if (!Model) {
      errors.push(`${name}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    // kustomize folds long base64 values over several lines; the API server's decoder skips the line breaks.
    if (object.kind === "Secret" && object.data) {
      for (const key of Object.keys(object.data)) object.data[key] = String(object.data[key]).replace(/\s+/g, "");
    }
    try {
      new Model(object).validate();
    } catch (error) {
      errors.push(`${name}: ${error.message}`);
    }
  }

  errors.push(...checkReferences(objects, external), ...checkScaledObjects(objects), ...checkPods(objects));
  errors.push(...(await checkFields(file, objects.filter((o) => o.apiVersion && o.kind && o.metadata?.name))));
  checked += objects.length;
  if (errors.length > 0) {
    failures += errors.length;
    console.error(`${basename(file)}: ${errors.length} problem(s) in ${objects.length} objects`);
    for (const error of errors) console.error(`  ${error}`);
  } else {
    console.log(`${basename(file)}: ${objects.length} objects valid`);
  }
}

if (failures > 0) {
  console.error(`kubernetes manifests: ${failures} problem(s)`);
  process.exit(1);
}
console.log(`kubernetes manifests: ${checked} objects in ${files.length} renderings valid`);

// Each object as a typed constant of a TypeScript module: `tsc --noEmit` then reports every field its kind has not.
async function checkFields(file, objects) {
  const here = dirname(fileURLToPath(import.meta.url));
  const folder = join(here, "node_modules", ".aggregator-check");
  mkdirSync(folder, { recursive: true });
  const source = join(folder, `${typeChecks++}.ts`);
  const lines = [];
  const typedObjects = [];
  for (const object of objects) {
    if (!(await modelFor(object.apiVersion, object.kind))) continue;
    const n = typedObjects.push(object) - 1;
    lines.push(`import type { I${object.kind} as T${n} } from "${moduleFor(object.apiVersion)}/${object.kind}";`);
    lines.push(`export const o${n}: T${n} = ${JSON.stringify(object)};`);
  }
  writeFileSync(source, lines.join("\n") + "\n");
  try {
    execFileSync(join(here, "node_modules", ".bin", "tsc"),
      ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", source],
      { encoding: "utf8", stdio: "pipe" });
    return [];
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`;
    const found = [...output.matchAll(/\.ts\((\d+),\d+\): error TS\d+: (.*)/g)].map(([, line, message]) => {
      const object = typedObjects[Math.floor((Number(line) - 1) / 2)];
      return `${object ? `${object.kind}/${object.metadata.name}` : "?"}: ${message}`;
    });
    return found.length > 0 ? found : [`the type check failed: ${output.trim() || error.message}`];
  } finally {
    rmSync(source, { force: true });
  }
}

function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function keysOf(object) {
  return new Set([...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {}), ...Object.keys(object.binaryData ?? {})]);
}

function podTemplates(objects) {
  const kinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);
  return objects.filter((o) => kinds.has(o.kind)).map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, object: o, template: o.spec?.template ?? {} }));
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
}

function checkReferences(objects, externalSecrets) {
  const errors = [];
  const need = (owner, kind, name, key, optional) => {
    if (kind === "Secret" && externalSecrets.has(name)) return;
    const target = find(objects, kind, name);
    if (!target) {
      if (!optional) errors.push(`${owner}: ${kind} ${name} is not in the rendering`);
      return;
    }
    if (key !== undefined && !keysOf(target).has(key) && !optional) errors.push(`${owner}: ${kind} ${name} has no key ${key}`);
  };

  for (const { owner, template } of podTemplates(objects)) {
    const spec = template.spec ?? {};
    for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const where = `${owner} container ${container.name}`;
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) need(where, "ConfigMap", source.configMapRef.name, undefined, source.configMapRef.optional);
        if (source.secretRef) need(where, "Secret", source.secretRef.name, undefined, source.secretRef.optional);
      }
      for (const variable of container.env ?? []) {
        const from = variable.valueFrom ?? {};
        if (from.configMapKeyRef) need(where, "ConfigMap", from.configMapKeyRef.name, from.configMapKeyRef.key, from.configMapKeyRef.optional);
        if (from.secretKeyRef) need(where, "Secret", from.secretKeyRef.name, from.secretKeyRef.key, from.secretKeyRef.optional);
      }
      const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
      for (const mount of container.volumeMounts ?? []) {
        if (!volumes.has(mount.name) && !isClaimTemplate(objects, owner, mount.name)) {
          errors.push(`${where}: mounts volume ${mount.name}, which the pod does not have`);
        }
      }
    }
    for (const volume of spec.volumes ?? []) {
      if (volume.configMap) for (const item of volume.configMap.items ?? [{}]) need(`${owner} volume ${volume.name}`, "ConfigMap", volume.configMap.name, item.key, volume.configMap.optional);
      if (volume.secret) for (const item of volume.secret.items ?? [{}]) need(`${owner} volume ${volume.name}`, "Secret", volume.secret.secretName, item.key, volume.secret.optional);
    }
  }

  const templates = podTemplates(objects);
  const selects = (selector) => templates.some(({ template }) => matches(selector, template.metadata?.labels));
  for (const service of objects.filter((o) => o.kind === "Service")) {
    if (service.spec?.selector && !selects(service.spec.selector)) errors.push(`Service/${service.metadata.name}: its selector matches no pod template`);
    const template = templates.find(({ template: t }) => matches(service.spec?.selector, t.metadata?.labels));
    for (const port of service.spec?.ports ?? []) {
      if (template && typeof port.targetPort === "string") {
        const named = (template.template.spec?.containers ?? []).flatMap((c) => c.ports ?? []).some((p) => p.name === port.targetPort);
        if (!named) errors.push(`Service/${service.metadata.name}: targetPort ${port.targetPort} is no container port of the pods it selects`);
      }
    }
  }
  for (const budget of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
    if (!selects(budget.spec?.selector?.matchLabels)) errors.push(`PodDisruptionBudget/${budget.metadata.name}: its selector matches no pod template`);
  }
  for (const { owner, object, template } of templates) {
    const selector = object.spec?.selector?.matchLabels;
    if (selector && !matches(selector, template.metadata?.labels)) errors.push(`${owner}: its selector does not match its own pod template`);
  }
  for (const monitor of objects.filter((o) => o.kind === "ServiceMonitor")) {
    const service = objects.find((o) => o.kind === "Service" && matches(monitor.spec?.selector?.matchLabels, o.metadata.labels));
    if (!service) {
      errors.push(`ServiceMonitor/${monitor.metadata.name}: its selector matches no Service`);
      continue;
    }
    for (const endpoint of monitor.spec.endpoints ?? []) {
      if (endpoint.port && !(service.spec.ports ?? []).some((p) => p.name === endpoint.port)) {
        errors.push(`ServiceMonitor/${monitor.metadata.name}: Service/${service.metadata.name} has no port named ${endpoint.port}`);
      }
      for (const part of ["username", "password"]) {
        const ref = endpoint.basicAuth?.[part];
        if (ref) need(`ServiceMonitor/${monitor.metadata.name}`, "Secret", ref.name, ref.key, ref.optional);
      }
    }
  }
  for (const authentication of objects.filter((o) => o.kind === "TriggerAuthentication")) {
    for (const ref of authentication.spec?.secretTargetRef ?? []) need(`TriggerAuthentication/${authentication.metadata.name}`, "Secret", ref.name, ref.key);
  }
  return errors;
}

function isClaimTemplate(objects, owner, name) {
  const [kind, objectName] = owner.split("/");
  const object = find(objects, kind, objectName);
  return (object?.spec?.volumeClaimTemplates ?? []).some((claim) => claim.metadata?.name === name);
}

function checkScaledObjects(objects) {
  const errors = [];
  for (const scaled of objects.filter((o) => o.kind === "ScaledObject")) {
    const name = `ScaledObject/${scaled.metadata.name}`;
    const target = scaled.spec?.scaleTargetRef ?? {};
    if (!find(objects, target.kind ?? "Deployment", target.name)) errors.push(`${name}: scales ${target.kind ?? "Deployment"} ${target.name}, which is not in the rendering`);
    if ((scaled.spec?.minReplicaCount ?? 0) > (scaled.spec?.maxReplicaCount ?? 100)) errors.push(`${name}: minReplicaCount is above maxReplicaCount`);
    for (const trigger of scaled.spec?.triggers ?? []) {
      if (trigger.type !== "postgresql") continue;
      const metadata = trigger.metadata ?? {};
      if (!metadata.query) errors.push(`${name}: the postgresql trigger has no query`);
      if (!metadata.targetQueryValue || Number.isNaN(Number(metadata.targetQueryValue))) errors.push(`${name}: the postgresql trigger needs a numeric targetQueryValue`);
      const reference = trigger.authenticationRef?.name;
      if (reference) {
        const kind = trigger.authenticationRef.kind ?? "TriggerAuthentication";
        const authentication = find(objects, kind, reference);
        if (!authentication) errors.push(`${name}: ${kind} ${reference} is not in the rendering`);
        else if (!(authentication.spec?.secretTargetRef ?? []).some((r) => r.parameter === "connection" || r.parameter === "password")) {
          errors.push(`${name}: ${kind} ${reference} gives the postgresql trigger neither a connection nor a password`);
        }
      } else if (!metadata.connectionFromEnv && !metadata.host) {
        errors.push(`${name}: the postgresql trigger has no connection (authenticationRef, connectionFromEnv or host)`);
      }
    }
  }
  return errors;
}

function checkPods(objects) {
  const errors = [];
  for (const { owner, template } of podTemplates(objects)) {
    const spec = template.spec ?? {};
    const pod = spec.securityContext ?? {};
    if (pod.runAsNonRoot !== true) errors.push(`${owner}: the pod does not set runAsNonRoot: true`);
    if (pod.seccompProfile?.type !== "RuntimeDefault") errors.push(`${owner}: the pod's seccomp profile is not RuntimeDefault`);
    for (const [list, init] of [[spec.initContainers ?? [], true], [spec.containers ?? [], false]]) {
      for (const container of list) {
        const where = `${owner} container ${container.name}`;
        const security = container.securityContext ?? {};
        if (security.allowPrivilegeEscalation !== false) errors.push(`${where}: allowPrivilegeEscalation is not false`);
        if (security.readOnlyRootFilesystem !== true) errors.push(`${where}: the root filesystem is not read-only`);
        if (!(security.capabilities?.drop ?? []).includes("ALL")) errors.push(`${where}: does not drop ALL capabilities`);
        if (security.privileged === true) errors.push(`${where}: is privileged`);
        for (const part of ["requests", "limits"]) {
          if (!container.resources?.[part]?.cpu || !container.resources?.[part]?.memory) errors.push(`${where}: no cpu and memory ${part}`);
        }
        if (!init && (!container.readinessProbe || !container.livenessProbe)) errors.push(`${where}: needs a readiness and a liveness probe`);
        if (!container.image) errors.push(`${where}: no image`);
      }
    }
  }
  return errors;
}
