/** Every route of the SPA, in one place, so links and the router cannot disagree. */
export const paths = {
  signIn: '/sign-in',
  signUp: '/sign-up',
  files: '/files',
  file: (id: string) => `/files/${encodeURIComponent(id)}`,
  fileRoute: '/files/:id',
  requests: '/requests',
  profile: '/profile',
  notifications: '/notifications',
  verifyEmail: '/verify-email',
  adminUsers: '/admin/users',
  adminAudit: '/admin/audit',
  adminAlerts: '/admin/alerts',
  adminMasterKey: '/admin/master-key',
} as const;
