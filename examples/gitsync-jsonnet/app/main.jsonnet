// A Rollout and its Services, generated: the canary steps are computed from a
// list of weights, and the image comes from an ext var.
local weights = [10, 30, 60];

function(replicas=2) {
  local app = 'guestbook',
  local labels = { app: app },

  service(name):: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: name },
    spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
  },

  stable: self.service(app + '-stable'),
  canary: self.service(app + '-canary'),

  rollout: {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: app },
    spec: {
      replicas: replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: labels },
        spec: { containers: [{ name: app, image: std.extVar('image'), ports: [{ containerPort: 8080 }] }] },
      },
      strategy: {
        canary: {
          canaryService: app + '-canary',
          stableService: app + '-stable',
          steps: std.flattenArrays([[{ setWeight: w }, { pause: { duration: '10s' } }] for w in weights]),
        },
      },
    },
  },
}
