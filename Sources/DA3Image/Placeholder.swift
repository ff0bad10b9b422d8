// DA3Image placeholder
