// The official convex client, pointed at this server (same origin). Live data (projects,
// files, conversations, messages) comes from its queries; the token goes in its Authenticate
// message, since a browser cannot set headers on a WebSocket.
import { ConvexReactClient } from 'convex/react';
import { anyApi } from 'convex/server';

export const convexApi = anyApi;

export function createConvexClient(getToken: () => string): ConvexReactClient {
  const client = new ConvexReactClient(window.location.origin, {
    skipConvexDeploymentUrlCheck: true,
    unsavedChangesWarning: false,
  });
  client.setAuth(async () => getToken() || null);
  return client;
}
