/* placeholder, replaced by the module skeleton */
