// Credentials sign both the control-plane calls and the WebSocket URL: they live in
// channel/ (the lower layer); re-exported here for existing imports.
export {
  CredentialSource,
  defaultCredentialProvider,
  type AwsCredentials,
  type CredentialProvider,
  type CredentialsInput,
} from '../channel/credentials.js';
