// W3C trace context from send to handler, through OpenTelemetry when it is installed.

/** The part of `@opentelemetry/api` Omnibus uses; typed here so the package stays optional. */
interface OpenTelemetryApi {
  readonly ROOT_CONTEXT: unknown;
  readonly context: { active(): unknown; with<R>(context: unknown, fn: () => R): R };
  readonly propagation: {
    inject(context: unknown, carrier: Record<string, string>): void;
    extract(context: unknown, carrier: Record<string, string>): unknown;
  };
}

/** Carries W3C trace context from `send` to the handler when OpenTelemetry is active. */
export interface Tracing {
  /** The active context's `traceparent`, if a propagator is registered and a span is active. */
  current(): string | undefined;
  /** Runs `fn` inside the context a message carried. */
  runHandler<R>(traceparent: string | undefined, fn: () => R): R;
}

let loaded: Promise<Tracing | undefined> | undefined;

/** Loads `@opentelemetry/api` once if it is installed; Omnibus doesn't depend on it. */
export function loadTracing(): Promise<Tracing | undefined> {
  // A variable specifier keeps bundlers and the type checker from requiring the optional package.
  const specifier = '@opentelemetry/api';
  loaded ??= import(specifier).then(
    (module: { default?: OpenTelemetryApi } & Partial<OpenTelemetryApi>) => {
      const api = (module.propagation ? module : module.default) as OpenTelemetryApi | undefined;
      return api?.propagation ? fromApi(api) : undefined;
    },
    () => undefined,
  );
  return loaded;
}

function fromApi(api: OpenTelemetryApi): Tracing {
  return {
    current() {
      const carrier: Record<string, string> = {};
      api.propagation.inject(api.context.active(), carrier);
      return carrier.traceparent;
    },
    runHandler(traceparent, fn) {
      if (traceparent === undefined) return fn();
      return api.context.with(api.propagation.extract(api.ROOT_CONTEXT, { traceparent }), fn);
    },
  };
}
