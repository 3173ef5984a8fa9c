import type { HostFacts } from "../facts/types.js";
import type { DesiredConfig } from "../postfix/derive.js";
import { mainCfValues } from "../postfix/maincf.js";
import { formatNextHop, resolvePort } from "../postfix/relay.js";
import { listItems, SASL_SECURITY_DEFAULT } from "../postfix/rules.js";
import type { NextHop, PostfixState } from "../postfix/state.js";
import {
  allowedBy,
  COMMON_MECHANISMS,
  filterAllows,
  installedMechanisms,
  KNOWN_MECHANISMS,
  pluginPackage,
} from "./sasl.js";

/**
 * Diagnoses: what would keep mail from leaving a host once its desired configuration is in place, found
 * before anything is written (apply, dry run and check). Pure: desired state and configuration plus the
 * host's facts in, findings out. An `error` means no mail (or no authenticated mail) can leave, or the
 * apply could not succeed: the host fails before any write. A `warning` is printed and the run goes on.
 */

export interface Diagnosis {
  level: "error" | "warning";
  message: string;
}

const MAIN_CF = "/etc/postfix/main.cf";

/** Postfix's compiled-in defaults of the parameters read here. */
const DEFAULTS: Readonly<Record<string, string>> = {
  smtp_sasl_auth_enable: "no",
  smtp_sasl_security_options: SASL_SECURITY_DEFAULT,
  smtp_sasl_tls_security_options: "$smtp_sasl_security_options",
  smtp_sasl_mechanism_filter: "",
  smtp_tls_security_level: "",
  smtp_tls_wrappermode: "no",
};

export function diagnose(state: PostfixState, config: DesiredConfig, facts: HostFacts): Diagnosis[] {
  const current = mainCfValues(facts.files.get(MAIN_CF)?.content ?? "");
  /** The value a parameter will have after the apply: owned by the config, else the host's, else Postfix's. */
  const effective = (name: string): string => {
    const owned = Object.hasOwn(config.main, name) ? config.main[name] : undefined;
    const value = owned === undefined ? current.get(name) : owned;
    return value ?? DEFAULTS[name] ?? "";
  };
  return [
    ...unknownParameters(state, config, facts, current),
    ...saslMechanisms(effective, facts),
    ...localOnly(state, current),
    ...submissionWithoutLogin(state),
  ];
}

/** A parameter the playbook sets that the host's Postfix does not know: a typo, refused before any write. */
function unknownParameters(
  state: PostfixState,
  config: DesiredConfig,
  facts: HostFacts,
  current: Map<string, string>,
): Diagnosis[] {
  // A name that another value refers to ($name) is the admin's own parameter, which Postfix accepts.
  const values = [...Object.values(config.main), ...current.values()].filter((v) => v !== null).join(" ");
  const referenced = (name: string) => new RegExp(`\\$(${name}\\b|\\{${name}[}?:])`).test(values);
  return (facts.unknownParameters ?? [])
    .filter((name) => !referenced(name))
    .map((name) => ({
      level: "error",
      message:
        `Postfix does not know the parameter ${name} (${whereSet(state, name)}; Postfix ${facts.version} ` +
        `on this host): check its spelling (postconf -d lists every parameter). Nothing was written`,
    }));
}

function whereSet(state: PostfixState, name: string): string {
  const table = Object.entries(state.tables ?? {}).find(([, spec]) => spec.parameter === name);
  return table ? `parameter of tables.${table[0]}` : `main: ${name}`;
}

/** "No worthy mechs found": no plugin for a usable mechanism, or the security options refuse them all. */
function saslMechanisms(effective: (name: string) => string, facts: HostFacts): Diagnosis[] {
  if (effective("smtp_sasl_auth_enable").toLowerCase() !== "yes") return [];
  const tls = effective("smtp_tls_security_level") !== "none" && effective("smtp_tls_security_level") !== "";
  const rawOptions = effective(tls ? "smtp_sasl_tls_security_options" : "smtp_sasl_security_options");
  const optionsText = rawOptions.includes("$") ? effective("smtp_sasl_security_options") : rawOptions;
  const options = listItems(optionsText.toLowerCase());
  const filterText = effective("smtp_sasl_mechanism_filter");
  // A filter that is a lookup table (type:name) depends on the server: not judged here.
  if (filterText.includes(":") || filterText.includes("/")) return [];
  const filter = filterText === "" ? undefined : listItems(filterText.toUpperCase());
  // A mechanism we do not know may be what the relay and a plugin agree on: not judged either.
  if (filter?.some((m) => !KNOWN_MECHANISMS.includes(m.replace(/^!/, "")))) return [];
  const allowed = filter
    ? [...new Set(filter.filter((m) => !m.startsWith("!") && filterAllows(filter, m)))]
    : KNOWN_MECHANISMS;
  const optionsShown = `security options "${options.join(", ")}"`;
  const refusedAll = (mechanisms: string[]) => mechanisms.every((m) => !allowedBy(m, options));
  const noWorthyMechs =
    'Postfix logs "SASL authentication failure: No worthy mechs found" and defers every mail that needs the login';
  const useNoanonymous =
    "use relay: security_options: [noanonymous] (the default; TLS protects the password)";

  if (filter && allowed.length === 0) {
    return [
      {
        level: "error",
        message:
          `the mechanism filter "${filterText}" allows no mechanism (a mechanism no pattern names is ` +
          `excluded): Postfix finds no SASL mechanism to use and defers every mail that needs the login. ` +
          `Name the mechanisms to use, e.g. relay: mechanisms: [plain, login]`,
      },
    ];
  }
  if (filter && refusedAll(allowed)) {
    return [
      {
        level: "error",
        message:
          `the ${optionsShown} refuse every mechanism the mechanism filter allows (${allowed.join(", ")}): ` +
          `${noWorthyMechs}. ${capitalise(useNoanonymous)}, or allow a mechanism they accept`,
      },
    ];
  }
  if (facts.saslPlugins !== undefined) {
    const installed = installedMechanisms(facts.saslPlugins);
    const usable = allowed.filter((m) => installed.includes(m));
    const wanted = filter ? allowed : COMMON_MECHANISMS;
    if (usable.length === 0) {
      const found = facts.saslPlugins.length === 0 ? "none" : facts.saslPlugins.join(", ");
      return [
        {
          level: "error",
          message:
            `no SASL plugin for ${wanted.join(" or ")} is installed on this host (plugins found: ${found}): ` +
            `${noWorthyMechs}. Install ${pluginPackage(facts.distro, wanted)} on the host`,
        },
      ];
    }
    if (refusedAll(usable)) {
      return [
        {
          level: "error",
          message:
            `the ${optionsShown} refuse every mechanism this host has a plugin for (${usable.join(", ")}): ` +
            `${noWorthyMechs}. ${capitalise(useNoanonymous)}`,
        },
      ];
    }
  }
  if (refusedAll(COMMON_MECHANISMS.filter((m) => allowed.includes(m)))) {
    return [
      {
        level: "warning",
        message:
          `the ${optionsShown} refuse PLAIN and LOGIN, often the only mechanisms a mail provider offers: ` +
          `unless the relay offers one they accept (${allowed.filter((m) => allowedBy(m, options)).join(", ")}), ` +
          `${noWorthyMechs}. Unless you know it does, ${useNoanonymous}`,
      },
    ];
  }
  return [];
}

/** Debian's "Local only" install: with these left at `error`, no mail leaves the machine. */
function localOnly(state: PostfixState, current: Map<string, string>): Diagnosis[] {
  if (state.relay || Object.keys(state.senders ?? {}).length > 0) return []; // the relay removes them
  const stuck = ["default_transport", "relay_transport"].filter(
    (name) => !Object.hasOwn(state.main, name) && current.get(name) === "error",
  );
  if (stuck.length === 0) return [];
  const settings = stuck.map((name) => `${name} = error`).join(" and ");
  return [
    {
      level: "warning",
      message:
        `main.cf has ${settings} (Debian's "Local only" setup) and the playbook declares no relay: this host ` +
        `sends no mail off the machine. To send mail, declare relay: (it removes them) or set ` +
        `${stuck.map((name) => `${name}: null`).join(" and ")} in main: to deliver directly; to keep them, ` +
        `set them to error in main:`,
    },
  ];
}

/** A submission port (587, 465) without a login: providers refuse mail there from unknown clients. */
function submissionWithoutLogin(state: PostfixState): Diagnosis[] {
  const hops: { where: string; hop: NextHop; login: boolean }[] = [];
  if (state.relay) hops.push({ where: "relay", hop: state.relay, login: state.relay.username !== undefined });
  for (const [sender, spec] of Object.entries(state.senders ?? {}))
    hops.push({ where: `senders.${sender}`, hop: spec.relay, login: spec.username !== undefined });
  return hops
    .filter(
      ({ hop, login }) => !login && hop.port !== undefined && [587, 465].includes(resolvePort(hop.port)),
    )
    .map(({ where, hop }) => ({
      level: "warning",
      message:
        `${where} sends to ${formatNextHop(hop)} (port ${resolvePort(hop.port ?? 25)}, a submission port) ` +
        `without username and password: submission ports almost always require a login, and mail would ` +
        `be refused. Add username and password, or use port 25 if the relay accepts this host without one`,
    }));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
