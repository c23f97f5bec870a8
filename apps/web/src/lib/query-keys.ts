// Roots of the query keys, shared so one feature's mutation can invalidate what
// another feature shows (a download changes "downloads left" and key use count).
export const queryRoots = {
  files: ['files'],
  accessRequests: ['access-requests'],
  keys: ['keys'],
  publicKeys: ['public-keys'],
  adminKek: ['admin', 'kek'],
  adminUsers: ['admin', 'users'],
  adminAudit: ['admin', 'audit'],
  adminAlerts: ['admin', 'alerts'],
  notifications: ['notifications'],
  notificationSettings: ['notification-settings'],
} as const;
