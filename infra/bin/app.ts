/**
 * CDK app entry (cdk.json: "npx tsx bin/app.ts"). Environment-agnostic: synth needs no
 * AWS account and no network; `cdk deploy` uses the caller's credentials and region.
 */
import { createApp } from '../lib/app.js';

createApp().app.synth();
