// The spec of one middleware definition and of a route's `maintenance`. The shape of `rule`
// depends on `type`, so it is kept as a YAML node here and walked by the type's own spec
// (registry.ts) once the type is known.
import { arr, bool, deferred, int, obj, str } from '../spec.ts';

export const middlewareSpec = obj(
  {
    name: { spec: str(), required: true, description: 'Unique name, without spaces; routes refer to it.' },
    type: {
      spec: str(),
      required: true,
      description:
        'Middleware type: `access`, `basicAuth` (`basic`), `jwtAuth` (`jwt`), `forwardAuth`, `accessPolicy`, `userAgentBlock`. Any other type is an error.',
    },
    paths: {
      spec: arr(str()),
      default: [],
      description:
        'Where it applies: `/x` or `/x/*` (the path and everything below it, with or without the route prefix, ignoring case), or an anchored regular expression `^...`. Empty: the whole route (Goma: nowhere for the auth types).',
    },
    rule: { spec: deferred(), description: 'Settings of the type; see "Middleware types" below.' },
  },
  { defName: 'middleware' },
);

export const maintenanceSpec = obj({
  enabled: { spec: bool(), default: false, description: '`true` answers every request of the route itself.' },
  statusCode: { spec: int(100, 599), default: 503, description: 'Status of the maintenance answer.' },
  message: {
    spec: str(),
    default: 'Service temporarily unavailable',
    description: 'Message in the answer (Gatehouse error body, JSON or text by `Accept`).',
  },
});
export const maintenanceDescription = 'Maintenance mode: the route answers itself, before any middleware or backend.';
