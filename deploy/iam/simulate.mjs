// Evaluates IAM requests against identity policies with @cloud-copilot/iam-simulate (a real IAM evaluator:
// conditions, wildcards, explicit denies). stdin: {"account", "roles": {role: [policy documents]}, "requests":
// [{role, action, resource, context}]}; stdout: one result per request, in order ({result, errors}).
import { createRequire } from 'node:module'

// The package is installed outside the repo (make iam-install: npm install --prefix <cache>), named by
// IAM_SIMULATE_PREFIX.
const require = createRequire(`${process.env.IAM_SIMULATE_PREFIX}/`)
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const results = []
for (const request of input.requests) {
  const policies = input.roles[request.role]
  if (!policies) {
    results.push({ result: 'NoSuchRole', errors: `no role ${request.role} in the template` })
    continue
  }
  const simulation = {
    identityPolicies: policies.map((policy, index) => ({ name: `policy${index}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      principal: `arn:aws:iam::${input.account}:role/${request.role}`,
      action: request.action,
      resource: { resource: request.resource, accountId: input.account },
      contextVariables: request.context || {}
    }
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    results.push({ result: 'Error', errors: JSON.stringify(response.errors) })
  } else {
    results.push({ result: response.overallResult })
  }
}
process.stdout.write(JSON.stringify(results))
